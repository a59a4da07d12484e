"""A small TMDB raw landing for the job tests: one API envelope and a two-movie Kaggle-format file."""

from __future__ import annotations

import json
from pathlib import Path

from datalake.sources.tmdb_kaggle import land_kaggle_file
from datalake.storage.base import ObjectStore

ENVELOPE_KEY = "raw/tmdb/movie/year=2026/month=12/day=04/details-daily-550-0.jsonl"
KAGGLE_HEADER = (
    "budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,"
    "production_companies,production_countries,release_date,revenue,runtime,spoken_languages,"
    "status,tagline,title,vote_average,vote_count"
)
KAGGLE_ROWS = (
    '237000000,"[{""id"": 28, ""name"": ""Action""}]",,19995,[],en,Avatar,A marine.,150.4,[],[],'
    "2009-12-10,2787965087,162,[],Released,,Avatar,7.2,11800",
    "0,[],,5,[],en,Four Rooms,,22.9,[],[],1995-12-09,0,98,[],Released,,Four Rooms,6.5,530",
)


def land_tmdb_raw(store: ObjectStore, scratch: Path) -> list[str]:
    """Land one SAMPLE envelope (movie 550) and a Kaggle-format file (2 movies); returns their keys."""
    details = {
        "id": 550,
        "title": "Fight Club",
        "release_date": "1999-10-15",
        "budget": 63000000,
        "genres": [],
    }
    line = {"movie_id": 550, "extracted_at": "2026-12-04T06:00:00+00:00", "source": "sample", "status": "ok"}
    store.put_bytes(ENVELOPE_KEY, (json.dumps({**line, "details": details}) + "\n").encode())
    kaggle = scratch / "tmdb_5000_movies.csv"
    kaggle.write_text("\n".join([KAGGLE_HEADER, *KAGGLE_ROWS]) + "\n", encoding="utf-8")
    return [ENVELOPE_KEY, land_kaggle_file(store, kaggle).key]
