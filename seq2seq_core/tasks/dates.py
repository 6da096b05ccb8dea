"""Human-written dates in several formats -> ISO 'YYYY-MM-DD'."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from ..errors import InvalidInput
from ..vocab import PAD, Vocabulary, and_list
from .base import Pairs, Task, check_length
from ..settings import check_fields, setting

MONTHS = np.array(calendar.month_name[1:])
MONTHS_SHORT = np.array(calendar.month_abbr[1:])
WEEKDAYS = np.array(calendar.day_name[:])  # Monday first, as date.weekday()


def _ordinal(day: np.ndarray) -> np.ndarray:
    suffix = np.where((day % 100 >= 11) & (day % 100 <= 13), "th",
                      np.choose(np.minimum(day % 10, 4), ["th", "st", "nd", "rd", "th"]))
    return np.char.add(day.astype(str), suffix)


def _pad2(x: np.ndarray) -> np.ndarray:
    return np.char.zfill(x.astype(str), 2)


def _join(*parts) -> np.ndarray:
    out = parts[0]
    for p in parts[1:]:
        out = np.char.add(out, p)
    return out


# name -> (example, builder(year, month, day, weekday) -> strings, strptime pattern)
FORMATS = {
    "d MMMM yyyy": (lambda y, m, d, w: _join(d.astype(str), " ", MONTHS[m - 1], " ", y.astype(str)),
                    "%d %B %Y"),
    "MMM d, yy": (lambda y, m, d, w: _join(MONTHS_SHORT[m - 1], " ", d.astype(str), ", ", _pad2(y % 100)),
                  "%b %d, %y"),
    "dd/mm/yyyy": (lambda y, m, d, w: _join(_pad2(d), "/", _pad2(m), "/", y.astype(str)),
                   "%d/%m/%Y"),
    "dddd, MMMM do yyyy": (lambda y, m, d, w: _join(WEEKDAYS[w], ", ", MONTHS[m - 1], " ", _ordinal(d),
                                                     " ", y.astype(str)),
                           "%A, %B %d %Y"),
    "MMMM d, yyyy": (lambda y, m, d, w: _join(MONTHS[m - 1], " ", d.astype(str), ", ", y.astype(str)),
                     "%B %d, %Y"),
    "d MMM yyyy": (lambda y, m, d, w: _join(d.astype(str), " ", MONTHS_SHORT[m - 1], " ", y.astype(str)),
                   "%d %b %Y"),
    "dd.mm.yy": (lambda y, m, d, w: _join(_pad2(d), ".", _pad2(m), ".", _pad2(y % 100)), "%d.%m.%y"),
    "yyyy/mm/dd": (lambda y, m, d, w: _join(y.astype(str), "/", _pad2(m), "/", _pad2(d)), "%Y/%m/%d"),
}
EXAMPLE_DATE = date(2021, 3, 3)


@dataclass(frozen=True)
class DateSettings:
    """Dates between `first_year` and `last_year`, written in `formats` (all by default).

    Two-digit years are read as 1950-2049, so the range must stay inside it when a
    two-digit format is used.
    """

    first_year: int = setting(1950, "First year", low=1000, high=9999, step=1)
    last_year: int = setting(2049, "Last year", low=1000, high=9999, step=1)
    formats: tuple[str, ...] = setting(tuple(FORMATS), "Formats", choices=tuple(FORMATS),
                                       many=True,
                                       help="The ways of writing a date the inputs use.")

    def __post_init__(self):
        check_fields(self)
        if self.first_year > self.last_year:
            raise InvalidInput("The first year must not come after the last year.")
        two_digit = any("yy" in f and "yyyy" not in f for f in self.formats)
        if two_digit and (self.first_year < 1950 or self.last_year > 2049):
            raise InvalidInput("Two-digit year formats need years within 1950-2049.")


def format_dates(days: np.ndarray, fmt: str) -> np.ndarray:
    """Write days (numpy datetime64[D]) in the named format, vectorised."""
    y = days.astype("datetime64[Y]").astype(int) + 1970
    m = days.astype("datetime64[M]").astype(int) % 12 + 1
    d = (days - days.astype("datetime64[M]")).astype(int) + 1
    w = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    return FORMATS[fmt][0](y, m, d, w)


class DateTask(Task):
    name = "dates"
    label = "Dates → ISO"
    settings: DateSettings
    title = "Dates to ISO format"
    summary = ("The source is a date as people write it ('3 March 2021', 'Mar 3, 21', "
               "'03/03/2021', 'Wednesday, March 3rd 2021'); the target is '2021-03-03'. "
               "Numeric dates are day first.")

    def __init__(self, settings: DateSettings | None = None):
        self.settings = settings or DateSettings()
        chars = set()
        for fmt in self.settings.formats:
            for text in self._all_shapes(fmt):
                chars.update(text)
        self.source_vocab = Vocabulary((PAD,) + tuple(sorted(chars)), pad=0)
        self.target_vocab = Vocabulary(tuple("0123456789-"), pad=10)
        self._longest = max((str(t) for f in self.settings.formats for t in self._all_shapes(f)),
                            key=len)
        self.source_len = len(self._longest)
        self.target_len = 10

    def _all_shapes(self, fmt: str) -> np.ndarray:
        """Every month and weekday name at its longest, so the vocabulary and length cover all."""
        days = np.arange(np.datetime64("2021-01-01"), np.datetime64("2022-01-01"))
        texts = format_dates(days, fmt)
        return np.char.replace(texts, "2021", str(self.settings.last_year))

    def _days(self, rng, n) -> np.ndarray:
        first = np.datetime64(f"{self.settings.first_year:04d}-01-01")
        last = np.datetime64(f"{self.settings.last_year:04d}-12-31")
        span = (last - first).astype(int) + 1
        return first + rng.integers(0, span, size=n).astype("timedelta64[D]")

    def sample(self, rng, n, split="train") -> Pairs:
        return self._written(rng, n, self.settings.formats)

    def _written(self, rng, n, formats: tuple[str, ...]) -> Pairs:
        """`n` random dates, each written in one of `formats`."""
        days = self._days(rng, n)
        which = rng.integers(0, len(formats), size=n)
        texts = np.empty(n, dtype=f"<U{self.source_len}")
        for i, fmt in enumerate(formats):
            rows = which == i
            if rows.any():
                texts[rows] = format_dates(days[rows], fmt)
        iso = np.datetime_as_string(days, unit="D")
        return Pairs(self.source_vocab.encode_strings(texts, self.source_len),
                     self.target_vocab.encode_strings(iso, self.target_len))

    def _formats_text(self) -> str:
        return and_list([repr(f) for f in self.settings.formats])

    def _limit_origin(self, side: str) -> str:
        if side == "output":
            return "an ISO date, YYYY-MM-DD"
        return f"the longest date its formats write, such as {self._longest!r}"

    def _alphabet_note(self, side: str) -> str:
        if side == "output":
            return "ISO dates use only the digits 0-9 and -."
        return (f"Dates here are written in English, in the formats chosen for this task "
                f"({self._formats_text()}), which use only: {self.source_vocab.describe_allowed()}.")

    def validate(self, text: str) -> str:
        """The date with runs of whitespace made one space and the ends stripped, or InvalidInput."""
        check_length(text)
        if isinstance(text, str):
            text = re.sub(r"\s+", " ", text).strip()
        return self.check_common(text)

    def _parse(self, text: str) -> tuple[date | None, str | None]:
        """The date and the format it is written in: the task's own formats first, then the others."""
        text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
        for fmt in self.settings.formats + tuple(f for f in FORMATS if f not in self.settings.formats):
            pattern = FORMATS[fmt][1]
            try:
                parsed = datetime.strptime(text, pattern).date()
            except ValueError:
                continue
            if "%y" in pattern:
                yy = parsed.year % 100
                parsed = parsed.replace(year=1900 + yy if yy >= 50 else 2000 + yy)
            return parsed, fmt
        return None, None

    def answer(self, text: str) -> str | None:
        """The ISO date if the text is a date in any known format (the task's own first), else None."""
        parsed, _ = self._parse(self.validate(text))
        return None if parsed is None else parsed.isoformat()

    def outside(self, text: str) -> str:
        """'' for a date written as the model saw dates; else what is new about it: a year
        outside first..last year, a format not among the chosen ones, another way of writing."""
        text = self.validate(text)
        s = self.settings
        parsed, fmt = self._parse(text)
        if parsed is None:
            return (f"This is not a date the task can read in the formats the model learned "
                    f"({self._formats_text()}), so there is no right answer to compare with and "
                    f"the model's output is a guess.")
        notes = []
        if fmt not in s.formats:
            notes.append(f"This date is written as {fmt!r}, a format the model never saw (it "
                         f"learned {self._formats_text()}).")
        else:
            usual = str(format_dates(np.array([np.datetime64(parsed)]), fmt)[0])
            if usual != text:
                notes.append(f"The model only saw this date written as {usual!r}; written this "
                             f"way it is new to the model.")
        if not s.first_year <= parsed.year <= s.last_year:
            side = f"before {s.first_year}" if parsed.year < s.first_year else f"after {s.last_year}"
            notes.append(f"The model never saw years {side} (it learned dates from "
                         f"{s.first_year} to {s.last_year}), so its output here is a guess.")
        return " ".join(notes)

    def possible_inputs(self) -> int:
        """Days from 1 January of the first year to 31 December of the last, times the formats."""
        s = self.settings
        days = (date(s.last_year, 12, 31) - date(s.first_year, 1, 1)).days + 1
        return days * len(s.formats)

    def example_inputs(self) -> list[str]:
        day = np.array([np.datetime64(EXAMPLE_DATE)])
        return [str(format_dates(day, f)[0]) for f in self.settings.formats[:3]]

    def property_of(self, source):
        texts = [self.source_text(row) for row in source]
        months = [int(a[5:7]) if (a := self.answer(t)) else 0 for t in texts]
        return "month", np.array(months, dtype=float)


class DatesByFormat(DateTask):
    """Dates written in `trained` formats for training, tested on `unseen` formats too.

    The vocabulary and source length cover every format, so a date in an unseen format can
    be read; training (and the check while training) draws only the trained formats, and
    `sample_at` draws one format of `points` (the trained ones, then the unseen).
    """

    def __init__(self, trained: tuple[str, ...], unseen: tuple[str, ...]):
        trained, unseen = tuple(trained), tuple(unseen)
        if not trained or not unseen or set(trained) & set(unseen):
            raise InvalidInput("Choose at least one trained and one unseen format, none of "
                               "them both.")
        super().__init__(DateSettings(formats=trained + unseen))
        self.points = self.settings.formats
        self.trained = self.points[:len(trained)]

    def sample(self, rng, n, split="train") -> Pairs:
        return self._written(rng, n, self.trained)

    def sample_at(self, rng, n: int, fmt: str) -> Pairs:
        """`n` dates written in the format `fmt`."""
        return self._written(rng, n, (fmt,))

    def outside(self, text: str) -> str:
        note = super().outside(text)
        _, fmt = self._parse(self.validate(text))
        if fmt is not None and fmt not in self.trained:
            note = (f"This date is written as {fmt!r}, a format the model never trained on (it "
                    f"learned {and_list([repr(f) for f in self.trained])}). {note}").strip()
        return note

    def possible_inputs(self) -> int:
        return super().possible_inputs() // len(self.points) * len(self.trained)
