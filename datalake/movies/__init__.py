"""The movie success classifier: what a success is, pre-release features, the model and its figures.

Modules, one job each: :mod:`tables` (the processed movie tables as pandas frames, from the lake
or a Kaggle-format CSV), :mod:`label` (the success label), :mod:`history` (as-of track records of
companies, keywords, people and collections), :mod:`features` (the pre-release feature frame),
:mod:`model` (the scikit-learn pipeline and its threshold), :mod:`evaluation` (the time split,
metrics and baselines), :mod:`training` (champion/challenger through the model registry) and
:mod:`serving` (friendly requests in, probabilities and factors out).
"""

#: The registry name of the model family (``models/movie_success/`` in the artifacts store).
MODEL_NAME = "movie_success"
#: SageMaker names the family's training jobs ``<this>-<timestamp>`` (``launch.py --model movie-success``).
BASE_JOB_NAME = "datalake-movie-success"
