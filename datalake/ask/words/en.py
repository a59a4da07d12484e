"""English grammar words (data only): the declared question kinds' (``WORDS``, ``COMMON``) and
the time-series parser's (``PARSER`` and the words of dates, numbers and buckets)."""

WORDS: dict[str, tuple[str, ...]] = {
    "top": ("top", "ranking", "rank", "leaderboard", "best of"),
    "most": (
        "most",
        "highest",
        "largest",
        "biggest",
        "greatest",
        "best",
        "top",
        "more",
        "max",
        "maximum",
        "leading",
        "high",
    ),
    "least": ("least", "lowest", "smallest", "fewest", "worst", "bottom", "less", "min", "minimum", "low"),
    "count": ("how many", "number of", "count", "count of", "total number", "amount of"),
    "average": ("average", "mean", "avg", "on average", "typical"),
    "sum": ("total", "sum", "overall", "in total", "combined", "altogether"),
    "max": ("maximum", "max", "highest", "largest", "record"),
    "min": ("minimum", "min", "lowest", "smallest"),
    "by": (
        "by",
        "per",
        "for each",
        "each",
        "for every",
        "broken down by",
        "grouped by",
        "across",
        "split by",
    ),
    "distribution": ("distribution", "breakdown", "histogram", "spread", "how are", "split"),
    "list": (
        "available",
        "exist",
        "are there",
        "list",
        "list of",
        "which",
        "what",
        "show me the",
        "kinds of",
        "types of",
    ),
    "greater": (
        "greater than",
        "more than",
        "over",
        "above",
        "higher than",
        "bigger than",
        "larger than",
        "exceeding",
        "exceed",
        "exceeds",
        "exceeded",
        "topped",
        "at least",
        "beyond",
    ),
    "less": (
        "less than",
        "under",
        "below",
        "lower than",
        "smaller than",
        "at most",
        "fewer than",
        "cheaper than",
    ),
    "versus": ("versus", "vs", "against", "compared to", "compared with", "compare", "comparison"),
    "year": (
        "per year",
        "by year",
        "each year",
        "yearly",
        "annual",
        "annually",
        "a year",
        "every year",
        "year by year",
        "year over year",
    ),
    "month": (
        "per month",
        "by month",
        "each month",
        "monthly",
        "a month",
        "every month",
        "month by month",
        "month over month",
    ),
    "half": ("and a half",),
    "million": ("m", "mm", "million", "millions", "mil", "mio"),
    "thousand": ("k", "thousand", "thousands"),
    "billion": ("b", "bn", "billion", "billions"),
    "one": ("the movie", "which movie", "what movie", "the client", "the supplier"),
}

#: Everyday words the typo corrector leaves alone.
COMMON: tuple[str, ...] = (
    "have",
    "has",
    "had",
    "did",
    "does",
    "made",
    "make",
    "makes",
    "show",
    "give",
    "tell",
    "list",
    "our",
    "which",
    "what",
    "when",
    "where",
    "who",
    "were",
    "was",
    "are",
    "there",
    "their",
    "them",
    "these",
    "those",
    "came",
    "come",
    "out",
    "released",
    "release",
    "starring",
    "directed",
    "tickets",
    "sold",
    "cinemas",
    "theaters",
    "bought",
    "last",
    "longer",
    "shorter",
    "over",
    "under",
    "every",
    "all",
    "time",
    "ever",
    "file",
    "files",
    "read",
    "password",
)

WORDS |= {
    "greater": WORDS["greater"]
    + (
        "longer than",
        "bigger than",
        "more expensive than",
    ),
    "less": WORDS["less"]
    + (
        "shorter than",
        "cheaper than",
    ),
    "all_time": ("of all time", "all time", "ever"),
    "how_much": ("how much", "total", "in total", "sum"),
    "which_year": ("which year", "what year", "in which year", "in what year", "which years", "what years"),
    "which_month": (
        "which month",
        "what month",
        "in which month",
        "in what month",
        "which months",
        "what months",
    ),
    "which": ("which", "what"),
    "hours": ("hours", "hour", "hrs", "h"),
    "write": (
        "update",
        "change",
        "set",
        "delete",
        "remove",
        "insert",
        "add",
        "modify",
        "drop",
        "erase",
        "overwrite",
        "rename",
    ),
}


# -- the time-series parser's grammar (datalake.ask.lexicon composes the languages) ----------

#: Concept -> folded phrases (English). What each concept does is said where :mod:`datalake.ask.lexicon`
#: names it.
PARSER: dict[str, tuple[str, ...]] = {
    "ascending": (
        "ascending", "smallest first", "lowest first", "least first", "from lowest to highest",
        "from smallest to largest", "from least to most",
    ),
    "average": (
        "average", "mean", "avg", "averaged", "on average", "typical",
    ),
    "breakdown": (
        "ranking", "rankings", "breakdown", "broken down", "split", "mix", "generation mix", "energy mix",
        "electricity mix", "power mix", "each technology", "each source", "every technology", "every source",
        "all technologies", "all sources", "by technology", "by technologies", "by source", "by sources",
        "by type", "per technology", "per source", "by fuel",
    ),
    "by_weekday": (
        "by day of week", "by day of the week", "per day of the week", "each day of the week",
        "day of the week", "day of week", "by weekday", "per weekday", "weekday",
    ),
    "compare": (
        "compare", "compared", "comparison", "versus", "vs", "against", "relative to", "difference",
        "differences", "compared to", "compared with", "change", "changed", "variation", "varied",
        "increase", "increased", "decrease", "decreased", "grew",
    ),
    "descending": (
        "descending", "largest first", "highest first", "biggest first", "from highest to lowest",
        "from largest to smallest", "from most to least",
    ),
    "forecast_error_absolute": (
        "mae", "mean absolute error", "absolute error", "mean error", "forecast error", "forecast errors",
        "error",
    ),
    "forecast_error_percent": (
        "mape", "mean absolute percentage error", "percentage error", "percent error", "how accurate",
        "accuracy", "precision",
    ),
    "leading": (
        "principal", "main", "predominant", "dominant", "leading", "led", "leader", "leaders", "lead", "top",
        "dominated", "dominates", "dominating",
    ),
    "maximum": (
        "max", "record", "maximum", "peak", "highest", "largest", "biggest", "greatest", "most",
        "record high", "peaked", "busiest",
    ),
    "minimum": (
        "min", "minimum", "lowest", "least", "smallest", "fewest", "trough", "bottom", "quietest", "calmest",
    ),
    "more": (
        "more",
    ),
    "partial_period": (
        "beginning of", "end of", "middle of", "early", "late", "mid", "overnight", "easter", "holiday",
        "holidays",
    ),
    "per": (
        "per", "each", "by",
    ),
    "percent_change": (
        "percentage change", "percent change", "change in percent", "in percent", "in percentage",
        "by what percentage", "by how many percent",
    ),
    "read_period_words": (
        "morning", "afternoon", "evening", "night", "tonight", "winter", "summer", "spring", "autumn",
        "fall", "christmas", "epiphany", "new years", "new year s",
    ),
    "top": (
        "top",
    ),
    "total": (
        "total", "how much energy", "total energy", "sum", "overall", "cumulative", "in total",
    ),
    "trend": (
        "trend", "trends", "evolution", "evolved", "over time", "time series", "day by day",
        "month by month", "week by week", "chart", "plot",
    ),
    "unread_period_parts": (
        "fortnight", "first half", "second half", "first week of", "second week of", "third week of",
        "fourth week of", "last week of",
    ),
    "unsafe": (
        "delete", "truncate", "insert", "modify", "alter", "grant", "revoke", "destroy", "overwrite",
        "shutdown", "execute", "exec", "select", "union", "sleep", "password", "credentials",
    ),
    "unsafe_objects": (
        "table", "tables", "database", "databases", "schema", "data", "rows", "records", "index", "view",
        "user", "role", "everything", "all", "demand", "generation", "predictions", "forecast", "requests",
    ),
    "unsafe_with_object": (
        "drop", "create", "update", "remove",
    ),
    "unsupported": (
        "error", "deviation", "accuracy", "precision", "mape", "mae", "rmse", "bias", "correlation",
        "regression",
    ),
    "weekends": (
        "weekends", "weekend",
    ),
    "when_of_extreme": (
        "with day and hour", "with the day and hour", "day and hour", "with date and time",
        "with the date and time", "date and time",
    ),
    "who": (
        "who",
    ),
    "workdays": (
        "working days", "workdays", "weekdays", "monday to friday",
    ),
}  # fmt: skip
#: Month names and abbreviations -> month number.
MONTHS: dict[str, int] = {
    "feb": 2, "jun": 6, "jul": 7, "sept": 9, "sep": 9, "oct": 10, "nov": 11, "january": 1, "february": 2,
    "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8, "september": 9, "october": 10,
    "november": 11, "december": 12, "jan": 1, "mar": 3, "apr": 4, "aug": 8, "dec": 12,
}  # fmt: skip
#: Weekday names -> Monday 0.
WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
#: Numbers in words.
NUMBER_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip
#: Ordinals up to the fifth.
ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
}  # fmt: skip
#: Bucket words -> the bucket (hour, day, week, month, year).
GRANULARITY: dict[str, str] = {
    "hourly": "hour", "hour": "hour", "hours": "hour", "daily": "day", "day": "day", "days": "day",
    "weekly": "week", "week": "week", "weeks": "week", "monthly": "month", "month": "month",
    "months": "month", "yearly": "year", "annual": "year", "year": "year", "years": "year",
}  # fmt: skip
#: Words that carry no meaning for the parser but must not be "corrected" into keywords.
FUNCTION_WORDS: tuple[str, ...] = (
    "the", "a", "an", "of", "in", "on", "at", "to", "for", "and", "or", "what", "which", "when", "where",
    "how", "much", "many", "was", "were", "is", "are", "be", "been", "has", "have", "had", "did", "do",
    "does", "there", "their", "its", "it", "this", "that", "these", "those", "with", "without", "from",
    "between", "during", "since", "until", "through", "about", "tell", "me", "show", "give", "please",
    "want", "know", "need", "can", "could", "would", "yesterday", "today", "tomorrow", "ago", "last", "past",
    "previous", "next", "same", "current", "so", "far", "week", "month", "year", "quarter", "half", "start",
    "end", "beginning", "middle", "first", "second", "third", "fourth", "value", "values", "data", "figure",
    "number", "level", "energy", "electricity", "electric", "power", "system", "grid", "hour", "hours",
    "day", "days", "actual", "real", "recorded", "registered", "reached", "happened", "happen", "occur",
    "occurred", "noon", "midnight", "morning", "afternoon", "evening", "night", "whole", "all", "every",
    "any", "our", "spain", "up", "down", "change", "changed", "increase", "decrease", "rose", "fell",
    "higher", "lower", "than", "as", "by", "per", "o", "clock", "am", "pm",
)  # fmt: skip
#: Every day of the week named as a span ("Monday to Sunday"): one value per weekday.
EVERY_DAY: tuple[str, ...] = ("monday to sunday", "monday through sunday", "every day of the week")
#: One weekday every week ("on Saturdays", "every Monday"): ``{day}`` a weekday, ``{plural}`` its plural.
EVERY_WEEKDAY: tuple[str, ...] = ("{plural}", "on {plural}", "every {day}", "all {plural}")
WEEKDAY_PLURALS: dict[str, int] = {
    "mondays": 0, "tuesdays": 1, "wednesdays": 2, "thursdays": 3, "fridays": 4, "saturdays": 5, "sundays": 6,
}  # fmt: skip
#: Month and weekday names (Monday first) as answers write them.
MONTH_NAMES: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
WEEKDAY_NAMES: tuple[str, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip
