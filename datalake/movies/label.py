"""What a success is: the film earned at least twice its budget AND its audience rated it 6 or more.

Why these numbers (see docs/movie-success.md for the data behind them):

- ``revenue_usd / budget_usd >= 2``: a cinema keeps about half of the box office and marketing
  costs roughly half the production budget again, so a film breaks even near 2x its budget.
  Reaching 1x (what 75 % of the labelled films do) is not a success for the studio.
- ``vote_average >= 6``: TMDB's median rating is about 6.2; below 6 the audience liked the
  film less than the typical one, whatever it earned.
- Only films whose outcome can be judged get a label: a budget and a revenue of at least
  USD 10,000 (TMDB's smaller figures are entry mistakes, such as "1" meaning one million) and
  at least 10 votes (an average of fewer votes is not an audience's verdict).

Revenue, rating and votes are post-release: they define the label and are never features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ROI_THRESHOLD = 2.0
RATING_THRESHOLD = 6.0
MIN_MONEY_USD = 10_000.0
MIN_VOTES = 10


def outcomes(movies: pd.DataFrame) -> pd.DataFrame:
    """Each movie's outcome: ``labelled``, ``success``, ``roi`` and ``log_roi`` (NaN when unlabelled).

    Parameters
    ----------
    movies
        The movies table (``movie_id``, ``budget_usd``, ``revenue_usd``, ``vote_average``,
        ``vote_count``).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``movies``: ``movie_id``, ``labelled`` (bool), ``success`` (float 1/0, NaN
        when not labelled), ``roi`` (revenue / budget) and ``log_roi`` (natural log).
    """
    budget = movies["budget_usd"].astype("float64")
    revenue = movies["revenue_usd"].astype("float64")
    rating = movies["vote_average"].astype("float64")
    votes = movies["vote_count"].astype("float64")
    labelled = (budget >= MIN_MONEY_USD) & (revenue >= MIN_MONEY_USD) & (votes >= MIN_VOTES) & rating.notna()
    roi = (revenue / budget).where(labelled)
    success = ((roi >= ROI_THRESHOLD) & (rating >= RATING_THRESHOLD)).astype("float64").where(labelled)
    return pd.DataFrame(
        {
            "movie_id": movies["movie_id"],
            "labelled": labelled.to_numpy(),
            "success": success,
            "roi": roi,
            "log_roi": np.log(roi),
            "rating": rating.where(labelled),
        },
        index=movies.index,
    )
