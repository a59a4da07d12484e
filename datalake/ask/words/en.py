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
    # "paid" is not a typo of "país".
    "paid",
    "pay",
    "pays",
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
    # One value per time bucket: "evolution of Spain's renewable share since 2010".
    "trend": ("trend", "evolution", "over time", "year by year", "time series", "how has", "evolved"),
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
    # The newest time the data holds: "what's the latest Henry Hub price?".
    "latest": ("latest", "most recent", "newest", "last available", "last known"),
    # Two values of a dimension subtracted, day by day: "the Brent-WTI spread".
    "difference": ("spread", "difference", "gap", "differential"),
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


# -- time expressions (datalake.ask.timeexpr composes the languages and names the rules) -----

#: Days of the month in words -> the day ("the fifteenth of April").
DAY_NUMBERS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "thirty first": 31, "twenty first": 21, "twenty second": 22, "twenty third": 23,
    "twenty fourth": 24, "twenty fifth": 25, "twenty sixth": 26, "twenty seventh": 27, "twenty eighth": 28,
    "twenty ninth": 29,
}  # fmt: skip
#: Ordinals of a quarter -> the quarter ("the first quarter"; "the last quarter" is the fourth).
QUARTERS: dict[str, int] = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": 4}
#: Relative periods: a rule of :data:`datalake.ask.timeexpr.RELATIVE_RULES` -> the phrases that say it.
RELATIVE_PERIODS: dict[str, tuple[str, ...]] = {
    "same_month_year-1": (
        "the same month last year", "same month last year", "the same month of last year",
        "same month of last year", "the same month a year ago", "same month the previous year",
        "the same month the previous year",
    ),
    "same_day_year-1": ("the same day last year", "same day last year", "the same day a year ago"),
    "same_week_year-1": ("the same week last year", "same week last year"),
    "weekend-1": ("last weekend", "the last weekend", "past weekend", "the past weekend", "previous weekend"),
    "weekend": ("this weekend",),
    "weekend+1": ("next weekend", "the next weekend", "the coming weekend", "this coming weekend"),
    "day-2": ("the day before yesterday", "day before yesterday"),
    "day-1": ("yesterday",),
    "day+2": ("the day after tomorrow", "day after tomorrow"),
    "day": ("today", "so far today"),
    "week-1": ("last week", "the last week", "past week", "the past week"),
    "week": ("this week", "the current week", "current week", "so far this week", "week to date"),
    "week+1": ("next week", "the next week", "the coming week"),
    "month-1": ("last month", "the last month", "past month", "the past month"),
    "month": (
        "this month", "the current month", "current month", "so far this month", "month to date",
    ),
    "month+1": ("next month",),
    "year-1": ("last year", "the last year", "past year", "the past year"),
    "year": ("this year", "the current year", "current year", "so far this year", "year to date", "ytd"),
    "year+1": ("next year", "the coming year"),
    "all_time": (
        "all time", "of all time", "ever", "all the data", "all data", "whole history", "on record",
    ),
}  # fmt: skip
#: Parts of the day (a rule of :data:`datalake.ask.timeexpr.DAY_PART_HOURS`) -> its words.
DAY_PARTS: dict[str, tuple[str, ...]] = {
    "morning": ("morning",), "afternoon": ("afternoon",), "evening": ("evening",), "night": ("night",),
}  # fmt: skip
#: Seasons -> their words ("fall" is also a verb: see ``TIME["season_verbs"]``).
SEASONS: dict[str, tuple[str, ...]] = {
    "spring": ("spring",), "summer": ("summer",), "autumn": ("autumn", "fall"), "winter": ("winter",),
}  # fmt: skip
#: Fixed-date holidays -> the phrases that say them ("new year s": the folded "new year's").
HOLIDAYS: dict[str, tuple[str, ...]] = {
    "christmas_day": ("christmas", "christmas day"), "christmas_eve": ("christmas eve",),
    "new_years_eve": ("new year s eve", "new years eve"),
    "new_years_day": ("new year s day", "new years day"),
    "epiphany": ("epiphany",),
}  # fmt: skip
#: Units of time, singular and plural -> the unit ("3 days ago", "the last 24 hours").
TIME_UNITS: dict[str, str] = {
    "day": "day", "week": "week", "month": "month", "year": "year", "hour": "hour",
}  # fmt: skip
TIME_UNITS_PLURAL: dict[str, str] = {
    "days": "day", "weeks": "week", "months": "month", "years": "year", "hours": "hour",
}  # fmt: skip
#: Clock words -> what they make of the hour (see the Spanish module).
CLOCK_PARTS: dict[str, str] = {"am": "am", "pm": "pm", "a m": "am", "p m": "pm"}
#: The words of each slot of the time expressions' patterns, in the order the patterns try them
#: (:mod:`datalake.ask.timeexpr` says what each slot is, where its scanner uses it).
TIME: dict[str, tuple[str, ...]] = {
    "article": ("the",),
    "articles": ("the",),
    "ordinal_suffixes": (),
    "day_suffixes": ("st", "nd", "rd", "th"),
    "year_last": ("last year", "previous year", "the previous year", "the last year"),
    "year_this": ("this year",),
    "year_joiners": ("of", "in"),
    "range_openers": ("from", "between"),
    "range_between": ("between",),
    "range_and": ("and",),
    "range_to": ("to", "until", "till", "through", "thru"),
    "range_to_after_opener": (),
    "range_fillers": ("the", "of"),
    "range_opener_fillers": ("the",),
    "day_number_fillers": ("the",),
    "previous_unit_article": ("the",),
    "previous_after_unit": (),
    "previous_before_unit": ("previous", "preceding", "prior"),
    "before_after_unit": ("before",),
    "not_after_before": ("yesterday", "last"),
    "previous_one": (
        "the previous one", "previous one", "the preceding one", "preceding one", "the prior one",
        "prior one", "the one before",
    ),
    "tomorrow": ("tomorrow",),
    "not_tomorrow_after": ("after",),
    "year_atom_before": ("in", "during"),
    "year_atom_word": ("year", "the year"),
    "day_part_this": ("this",),
    "day_part_before": ("in the", "during the"),
    "day_part_not_alone": (),
    "tonight": ("tonight",),
    "last_night": ("last night",),
    "at_night": ("at night",),
    "season_in": ("in", "during"),
    "season_this": ("this",),
    "season_last": ("last", "past", "previous"),
    "last_after": (),
    "season_of": ("of",),
    "season_verbs": ("fall",),
    "holiday_before": ("on", "the", "during"),
    "holiday_day_of": (),
    "holiday_last": ("last",),
    "holiday_season": ("holidays", "week", "period", "season", "time", "break", "vacation"),
    "same_period": ("same period",),
    "same_period_of": ("of", "in"),
    "same_period_year_before": ("last year", "previous year", "a year ago", "the year before"),
    "year_on_year": ("year over year", "year on year", "yoy"),
    "rolling_before": ("in the", "over the", "during the", "the", "in", "over", "during"),
    "rolling_last": ("last", "past", "previous"),
    "ago_before": (),
    "ago_after": ("ago",),
    "ago_one": ("a", "an"),
    "day_of_month_before": (),
    "day_of_month_not_before": (),
    "day_of_month_on": ("on the",),
    "day_of_month_not_after_suffix": ("of",),
    "named_range_openers": ("from", "between"),
    "named_day_of": ("of",),
    "weekday_article": ("on",),
    "day_the": ("the",),
    "named_day_word": (),
    "named_day_month_of": (),
    "named_day_on": ("on",),
    "part_anchors": ("year", "month", "this", "last"),
    "decade_in": ("in", "during"),
    "decade_article": ("the",),
    "decade_suffix": ("s",),
    "decade_of_in": (),
    "decade_of_article": (),
    "decade_of": (),
    "since": ("since",),
    "since_year_word": ("year",),
    "since_not_before": ("to", "until", "till", "through", "and"),
    "quarter_before": ("in the", "the"),
    "quarter": ("quarter",),
    "quarter_of": ("of",),
    "quarter_short_before": ("in",),
    "quarter_letters": ("q",),
    "of_last_week": ("of last week", "last week", "of the previous week"),
    "next_before_weekday": ("next", "this coming", "the coming", "coming"),
    "next_article_after_weekday": (),
    "next_after_weekday": (),
    "for_weekday": (),
    "recent_before_weekday": ("this", "on", "last", "the last", "past"),
    "recent_after_weekday": ("last",),
    "month_last_article": ("in",),
    "month_last_before": ("last", "past", "previous"),
    "month_of": (),
    "month_last_after": (),
    "month_before": ("in", "during"),
    "month_of_named": ("the month of",),
    "clock_day_part_of": (),
    "clock_hour_words": ("o clock", "h", "hs", "hrs"),
    "clock_range_from": ("between", "from"),
    "clock_range_to": ("and", "to", "until"),
    "clock_range_suffixes": ("am", "pm"),
    "clock_range_from_minutes": (),
    "clock_range_to_minutes": (),
    "clock_at": ("at", "around", "about"),
    "clock_at_article": (),
    "clock_suffixes": ("h",),
    "noon_at": ("at", "around"),
    "noon": ("noon", "midday", "the middle of the day"),
    "midnight_at": ("at",),
    "midnight": ("midnight",),
    "week_of": ("the week of", "week of"),
    # Words of the patterns the phrases above do not all show; the typo corrector must know them.
    "pattern_words": (
        "ago", "last", "past", "previous", "days", "weeks", "months", "years", "hours", "day", "week",
        "month", "year", "from", "between", "and", "to", "until", "through", "till", "thru", "quarter",
        "first", "second", "third", "fourth", "noon", "midnight", "midday", "tomorrow", "am", "pm", "clock",
        "around", "about", "at", "same", "period", "over", "on", "yoy", "this", "during", "in", "of", "the",
        "st", "nd", "rd", "th", "tonight", "morning", "afternoon", "evening", "night", "christmas", "eve",
        "epiphany", "new", "s", "spring", "summer", "autumn", "fall", "winter",
    ),
}  # fmt: skip
#: Names of the periods in answers: a rule -> its name; ``{year}``, ``{decade}`` are filled in.
TIME_NAMES: dict[str, str] = {
    "same_month_year-1": "the same month last year",
    "same_day_year-1": "the same day last year",
    "same_week_year-1": "the same week last year",
    "weekend-1": "last weekend",
    "weekend": "this weekend",
    "weekend+1": "next weekend",
    "day-2": "the day before yesterday",
    "day-1": "yesterday",
    "day+1": "tomorrow",
    "day+2": "the day after tomorrow",
    "day": "today",
    "week-1": "last week",
    "week": "this week",
    "week+1": "next week",
    "month-1": "last month",
    "month": "this month",
    "month+1": "next month",
    "year-1": "last year",
    "year": "this year",
    "year+1": "next year",
    "previous_day": "the day before",
    "previous_week": "the previous week",
    "previous_month": "the previous month",
    "previous_year": "the previous year",
    "small_hours": "in the small hours",
    "small_hours_today": "early this morning",
    "morning": "in the morning",
    "morning_today": "this morning",
    "long_afternoon": "in the afternoon",
    "long_afternoon_today": "this afternoon",
    "afternoon": "in the afternoon",
    "afternoon_today": "this afternoon",
    "evening": "in the evening",
    "evening_today": "this evening",
    "night": "at night",
    "night_today": "tonight",
    "last_night": "last night",
    "spring": "in spring",
    "spring_this": "this spring",
    "spring_last": "last spring",
    "spring_of_year": "in spring {year}",
    "summer": "in summer",
    "summer_this": "this summer",
    "summer_last": "last summer",
    "summer_of_year": "in summer {year}",
    "autumn": "in autumn",
    "autumn_this": "this autumn",
    "autumn_last": "last autumn",
    "autumn_of_year": "in autumn {year}",
    "winter": "in winter",
    "winter_this": "this winter",
    "winter_last": "last winter",
    "winter_of_year": "in winter {year}",
    "christmas_day": "on Christmas Day",
    "christmas_eve": "on Christmas Eve",
    "new_years_eve": "on New Year's Eve",
    "new_years_day": "on New Year's Day",
    "epiphany": "on Epiphany",
    "decade": "the {decade}s",
    "since": "since {year}",
}
