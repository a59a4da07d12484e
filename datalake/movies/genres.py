"""TMDB's movie genres: ids, English names and the Spanish names TMDB shows (``language=es-ES``)."""

from __future__ import annotations

import unicodedata

#: id -> (English name, Spanish name). "Foreign" is retired on TMDB but present in older data.
GENRES: dict[int, tuple[str, str]] = {
    28: ("Action", "Acción"),
    12: ("Adventure", "Aventura"),
    16: ("Animation", "Animación"),
    35: ("Comedy", "Comedia"),
    80: ("Crime", "Crimen"),
    99: ("Documentary", "Documental"),
    18: ("Drama", "Drama"),
    10751: ("Family", "Familia"),
    14: ("Fantasy", "Fantasía"),
    36: ("History", "Historia"),
    27: ("Horror", "Terror"),
    10402: ("Music", "Música"),
    9648: ("Mystery", "Misterio"),
    10749: ("Romance", "Romance"),
    878: ("Science Fiction", "Ciencia ficción"),
    10770: ("TV Movie", "Película de TV"),
    53: ("Thriller", "Suspense"),
    10752: ("War", "Bélica"),
    37: ("Western", "Western"),
    10769: ("Foreign", "Extranjera"),
}
#: English names, in the order features use them.
GENRE_NAMES = tuple(english for english, _ in GENRES.values())


def _fold(text: str) -> str:
    # "Acción", "accion" and "ACCIÓN" are the same genre; so are "Sci-Fi"-style spacing variants.
    stripped = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(stripped.lower().replace("-", " ").split())


_ALIASES = {
    **{_fold(english): english for english, _ in GENRES.values()},
    **{_fold(spanish): english for english, spanish in GENRES.values()},
    # Other names TMDB's Spanish locales and everyday speech use for the same genres.
    _fold("Ciencia ficcion"): "Science Fiction",
    _fold("Sci Fi"): "Science Fiction",
    _fold("Thriller"): "Thriller",
    _fold("Guerra"): "War",
    _fold("Animacion"): "Animation",
    _fold("Musical"): "Music",
    _fold("Documentary film"): "Documentary",
    _fold("Película de televisión"): "TV Movie",
}


def genre_name(text: str) -> str | None:
    """The English TMDB genre ``text`` names (English or Spanish, any case or accents), or None."""
    return _ALIASES.get(_fold(text))


def known_genres() -> list[str]:
    """Every accepted name, English then Spanish, for error messages."""
    return [
        f"{english} ({spanish})" if spanish != english else english for english, spanish in GENRES.values()
    ]
