"""Assessment periods. Expected day counts are calendar facts (Gregorian leap years)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fpanalysis import periods as pr
from fpanalysis.periods import Dekad, Span

LABELS = [
    ("2024", pd.Period("2024", "Y")),
    ("2024年", pd.Period("2024", "Y")),
    ("2024Q3", pd.Period("2024Q3", "Q")),
    ("2024-Q3", pd.Period("2024Q3", "Q")),
    ("2024年第3季度", pd.Period("2024Q3", "Q")),
    ("2024年第三季度", pd.Period("2024Q3", "Q")),
    ("2024-07", pd.Period("2024-07", "M")),
    ("2024/7", pd.Period("2024-07", "M")),
    ("202407", pd.Period("2024-07", "M")),
    ("2024年7月", pd.Period("2024-07", "M")),
    ("2024年07月份", pd.Period("2024-07", "M")),
    ("2024-07-D2", Dekad(2024, 7, 2)),
    ("2024年7月上旬", Dekad(2024, 7, 1)),
    ("2024年7月中旬", Dekad(2024, 7, 2)),
    ("2024年7月下旬", Dekad(2024, 7, 3)),
    ("2024H1", Span(pd.Period("2024-01", "M"), pd.Period("2024-06", "M"))),
    ("2024年下半年", Span(pd.Period("2024-07", "M"), pd.Period("2024-12", "M"))),
    ("2024-01/2024-09", Span(pd.Period("2024-01", "M"), pd.Period("2024-09", "M"))),
    ("2024年1-9月", Span(pd.Period("2024-01", "M"), pd.Period("2024-09", "M"))),
]


@pytest.mark.parametrize(("text", "expected"), LABELS)
def test_parse_every_label_form(text, expected):
    assert pr.parse(text) == expected


@pytest.mark.parametrize("text", ["2024Q5", "2024-13", "2024-07-D4", "24Q1", "", "第3季度",
                                  "2024年13月", "2024-09/2024-01"])
def test_parse_rejects_bad_labels(text):
    with pytest.raises(ValueError):
        pr.parse(text)


@pytest.mark.parametrize(("label", "days"), [
    ("2024-02-D3", 9),   # leap February: 21..29
    ("2023-02-D3", 8),   # common February: 21..28
    ("2024-01-D3", 11),  # 31-day month: 21..31
    ("2024-04-D3", 10),  # 30-day month
    ("2024-04-D1", 10), ("2024-04-D2", 10),
    ("2024-02", 29), ("2023-02", 28),
    ("2024Q1", 91), ("2023Q1", 90), ("2024Q3", 92),
    ("2024H1", 182), ("2023H1", 181), ("2024H2", 184),
    ("2024", 366), ("2023", 365), ("2000", 366), ("1900", 365),
    ("2024-01/2024-09", 274),
])
def test_days(label, days):
    assert pr.days(label) == days


def test_dekads_tile_every_month():
    for month in pd.period_range("2023-01", "2024-12", freq="M"):
        parts = [Dekad(month.year, month.month, k) for k in (1, 2, 3)]
        assert sum(d.days for d in parts) == month.days_in_month
        assert parts[0].start_time == month.start_time
        assert parts[2].end_time == month.end_time.normalize()
        assert parts[0].end_time + pd.Timedelta(days=1) == parts[1].start_time


def test_year_fraction_and_ytd():
    assert pr.year_fraction("2024Q1") == 91 / 366
    assert pr.year_fraction("2023-02-D3") == 8 / 365
    assert str(pr.year_to_date("2024-07-D2")) == "2024-01/2024-07"
    assert str(pr.year_to_date("2024H1")) == "2024H1"
    assert list(pr.months("2024Q2").astype(str)) == ["2024-04", "2024-05", "2024-06"]


def test_labels_in_chinese():
    assert pr.label("2024H1") == "2024年上半年"
    assert pr.label("2024-07") == "2024年7月"
    assert pr.label("2024") == "2024年"
    assert pr.label("2024Q3", "en") == "2024Q3"


periods_strategy = st.one_of(
    st.builds(lambda y, m: pd.Period(year=y, month=m, freq="M"),
              st.integers(1950, 2100), st.integers(1, 12)),
    st.builds(lambda y, q: pd.Period(year=y, quarter=q, freq="Q"),
              st.integers(1950, 2100), st.integers(1, 4)),
    st.builds(lambda y: pd.Period(year=y, freq="Y"), st.integers(1950, 2100)),
    st.builds(Dekad, st.integers(1950, 2100), st.integers(1, 12), st.integers(1, 3)),
    st.builds(lambda y, a, b: Span(pd.Period(year=y, month=min(a, b), freq="M"),
                                   pd.Period(year=y, month=max(a, b), freq="M")),
              st.integers(1950, 2100), st.integers(1, 12), st.integers(1, 12)),
)


@given(periods_strategy)
def test_parse_roundtrips_str_and_chinese_label(p):
    assert pr.parse(str(p)) == p
    assert pr.parse(pr.label(p, "zh")) == p


def _monthly(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.period_range("2024-01", "2024-12", freq="M")
    return pd.DataFrame({
        "unit": np.repeat(["A", "B"], 12),
        "period": pd.PeriodIndex(np.tile(months, 2), freq="M"),
        "births_male": rng.integers(0, 50, 24),
        "population": rng.integers(900, 1100, 24),
    })


def test_rollup_sums_flows_and_day_weights_stocks():
    m = _monthly()
    q = pr.rollup(m, "Q")
    a1 = m[(m.unit == "A") & (m.period.dt.quarter == 1)]
    row = q[(q.unit == "A") & (q.period == pd.Period("2024Q1", "Q"))].iloc[0]
    assert row.births_male == a1.births_male.sum()
    days = a1.period.dt.days_in_month.to_numpy()
    assert row.population == pytest.approx((a1.population * days).sum() / days.sum(), rel=1e-15)
    # person-years add up: mean population x days of the quarter = sum over months
    assert row.population * 91 == pytest.approx((a1.population * days).sum(), rel=1e-15)
    assert list(q.columns) == ["unit", "period", "births_male", "population", "reported",
                               "expected", "days_reported", "complete", "missing"]
    assert q["complete"].all() and (q["reported"] == 3).all() and (q["missing"] == "").all()


def test_rollup_year_to_date_equals_sum_of_its_months():
    m = _monthly(1)
    ytd = pr.rollup(m, pr.year_to_date("2024Q3"))
    assert str(ytd.period.iloc[0]) == "2024-01/2024-09"
    for unit, g in m[m.period.dt.month <= 9].groupby("unit"):
        assert ytd.loc[ytd.unit == unit, "births_male"].iloc[0] == g.births_male.sum()


def test_rollup_incomplete_periods_stay_visible_and_gaps_are_never_silently_zero():
    m = _monthly(2)
    m = m[~((m.unit == "B") & (m.period == pd.Period("2024-05", "M")))].copy()
    q = pr.rollup(m, "Q")
    row = q[(q.unit == "B") & (q.period == pd.Period("2024Q2", "Q"))].iloc[0]
    # the row is kept, its counts are missing (not a two-month sum), and it says why
    assert pd.isna(row.births_male) and np.isnan(row.population)
    assert (row.complete, row.reported, row.expected, row.missing) == (False, 2, 3, "2024-05")
    partial = pr.rollup(m, "Q", complete=False)
    row = partial[(partial.unit == "B") & (partial.period == pd.Period("2024Q2", "Q"))].iloc[0]
    b = m[(m.unit == "B") & m.period.isin(pd.PeriodIndex(["2024-04", "2024-06"], freq="M"))]
    assert row.births_male == b.births_male.sum()  # April + June only
    assert row.days_reported == 30 + 30
    assert row.reported == 2 and row.missing == "2024-05" and not row.complete
    m["births_male"] = m["births_male"].astype("Int64")
    m.loc[m.index[0], "births_male"] = pd.NA
    q = pr.rollup(m, "Q")
    assert q.loc[(q.unit == "A") & (q.period == pd.Period("2024Q1", "Q")),
                 "births_male"].isna().all()


def test_rollup_lists_a_period_only_when_some_key_has_it_complete():
    m = _monthly(3)
    m = m[m.period <= pd.Period("2024-11", "M")]  # 2024Q4 still running for everyone
    q = pr.rollup(m, "Q")
    assert [str(p) for p in pd.unique(q.period)] == ["2024Q1", "2024Q2", "2024Q3"]
    m = m[~((m.unit == "A") & (m.period == pd.Period("2024-08", "M")))]
    q = pr.rollup(m, "Q")  # B has 2024Q3 complete, so A's incomplete 2024Q3 row is listed
    row = q[(q.unit == "A") & (q.period == pd.Period("2024Q3", "Q"))].iloc[0]
    assert (row.complete, row.missing) == (False, "2024-08")


def test_rollup_refuses_duplicates_and_dekads_of_monthly_counts():
    m = _monthly()
    with pytest.raises(ValueError, match=r"counts have 1 duplicate row\(s\) for \(unit, "
                                         r"period\), e.g. \(A, 2024-01\)"):
        pr.rollup(pd.concat([m, m.iloc[:1]]), "Q")
    with pytest.raises(ValueError, match="period 2024-07-D1 is a dekad but the counts are "
                                         "monthly: dekad figures need dekad counts"):
        pr.rollup(m, "2024-07-D1")


def test_rollup_refuses_months_mixed_with_dekads():
    mixed = pd.DataFrame({"unit": "A", "period": pd.Series([Dekad(2024, 7, 1),
                                                            pd.Period("2024-08", "M")],
                                                           dtype=object),
                          "births_male": [1, 2]})
    assert not pr.is_dekad(mixed["period"])
    with pytest.raises(ValueError, match=r"rollup needs a monthly period column \(period\[M\]\) "
                                         "or dekads"):
        pr.rollup(mixed, "Q")


def test_rollup_dekads_missing_dekad_named():
    dek = [Dekad(2024, 7, k) for k in (1, 3)] + [Dekad(2024, 8, k) for k in (1, 2, 3)]
    d = pd.DataFrame({"unit": "A", "period": pd.Series(dek, dtype=object),
                      "births_male": [1, 2, 3, 4, 5], "population": 1000})
    mo = pr.rollup(d, "M", complete=False)
    assert mo["missing"].tolist() == ["2024-07-D2", ""]
    assert mo["births_male"].tolist() == [1 + 2, 3 + 4 + 5]
    july = pr.rollup(d, "2024-07")  # a single target period is listed even if incomplete
    assert july["births_male"].isna().all() and july["missing"].tolist() == ["2024-07-D2"]
    assert july["reported"].tolist() == [2] and july["expected"].tolist() == [3]
    one = pr.rollup(d, "2024-07-D3")
    assert one["births_male"].tolist() == [2] and one["expected"].tolist() == [1]
    assert one["period"].tolist() == [Dekad(2024, 7, 3)]


def test_rollup_dekads_to_months_and_half_years():
    dek = [Dekad(2024, mth, k) for mth in range(1, 13) for k in (1, 2, 3)]
    d = pd.DataFrame({"unit": "A", "period": pd.Series(dek, dtype=object),
                      "births_male": np.arange(36), "population": 1000})
    h = pr.rollup(d, "H")
    assert list(h.period.astype(str)) == ["2024H1", "2024H2"]
    assert list(h.births_male) == [sum(range(18)), sum(range(18, 36))]
    assert h.population.tolist() == [1000, 1000]


def test_dekads_and_spans_are_their_labels_and_order_by_time(tmp_path):
    import pickle

    d = Dekad(2024, 7, 2)
    assert d == "2024-07-D2" and isinstance(d, str) and (d.year, d.month_number, d.part) == (
        2024, 7, 2)
    with pytest.raises(AttributeError):
        d.part = 3
    h1, ytd, h2 = pr.parse("2024H1"), pr.parse("2024-01/2024-09"), pr.parse("2024H2")
    # lexically "2024-01/2024-09" < "2024H1"; by (first, last) H1 comes first
    assert sorted([h2, ytd, h1]) == [h1, ytd, h2] and "2024-01/2024-09" < "2024H1"
    assert h1 < ytd < h2 and max([h1, h2, ytd]) == h2
    assert pickle.loads(pickle.dumps([d, ytd])) == [d, ytd]
    assert type(pickle.loads(pickle.dumps(ytd))) is Span
    frame = pd.DataFrame({"period": pd.Series([d, ytd, h1], dtype=object), "x": [1, 2, 3]})
    frame.to_parquet(tmp_path / "p.parquet")
    back, bad = pr.parse_series(pd.read_parquet(tmp_path / "p.parquet")["period"])
    assert not bad.any() and list(back) == [d, ytd, h1]
    assert [type(v) for v in back] == [Dekad, Span, Span]


def test_rollup_over_all_keys_sums_stocks_across_keys():
    m = _monthly(4)
    q = pr.rollup(m, "Q", by=[])
    q1 = m[m.period.dt.quarter == 1]
    days = q1.period.dt.days_in_month.to_numpy()
    # hand: county mean population = sum over units of their day-weighted means
    assert q.population.iloc[0] == pytest.approx((q1.population * days).sum() / 91, rel=1e-13)
    assert q.births_male.iloc[0] == q1.births_male.sum()
    assert q.reported.iloc[0] == 3 and q.complete.iloc[0]


def test_a_span_across_years_is_annualized_year_by_year():
    # found by the explore helper: 2023-01/2024-12 was 731/365 = 2.0027 years. By hand the
    # birth rate of 2 years with 1,000 births and a mean population of 50,000 is
    # 1000 / (50000 x 2) x 1000 = 10 per mille
    import fpanalysis.indicators as ind

    months = pd.period_range("2023-01", "2024-12", freq="M")
    c = pd.DataFrame({"unit": "A", "period": months, "births": [42] * 23 + [34],
                      "population": 50000})
    assert int(c["births"].sum()) == 1000
    r = ind.compute(c, ["crude_birth_rate"], period="2023-01/2024-12")
    assert r["value"].iloc[0] == pytest.approx(10.0, rel=1e-12)


def test_has_duplicate_keys_agrees_with_pandas_duplicated():
    # reference: pandas DataFrame.duplicated(keys).any(), which counts missing keys as equal
    frame = pd.DataFrame({"unit": ["A", "A", "B", None, None, "B"],
                          "period": [1, 2, 1, 1, 1, 2], "x": [0, 0, 0, 0, 0, 0]})
    assert pr.has_duplicate_keys(frame, ["unit", "period"])  # the two (None, 1) rows
    assert frame.duplicated(["unit", "period"]).any()
    distinct = frame.iloc[[0, 1, 2, 3, 5]]
    assert not pr.has_duplicate_keys(distinct, ["unit", "period"])
    assert not distinct.duplicated(["unit", "period"]).any()
    assert pr.has_duplicate_keys(frame, ["unit"])  # A twice
    assert not pr.has_duplicate_keys(frame.iloc[:0], ["unit", "period"])


@pytest.mark.parametrize("kind", ["string", "object", "int64", "mixed", "category"])
def test_rollup_groups_units_of_every_kind_as_a_pandas_groupby_does(kind):
    # reference: a plain pandas groupby-sum of the same rows (sorted keys, one row a key);
    # text and whole-number units are numbered in numpy, other kinds grouped by pandas
    units = {"string": pd.array(["B", "A", "B", "A"], dtype="string"),
             "object": np.array(["B", "A", "B", "A"], dtype=object),
             "int64": np.array([12, 3, 12, 3]),
             "mixed": np.array([12, "A", 12, "A"], dtype=object),
             "category": pd.Categorical(["B", "A", "B", "A"], categories=["B", "A"])}[kind]
    m = pd.DataFrame({"unit": units,
                      "period": pd.PeriodIndex(["2024-01", "2024-01", "2024-02", "2024-02"],
                                               freq="M"),
                      "births": [1, 2, 3, 4]})
    got = pr.rollup(m, "2024-01/2024-02")
    ref = m.groupby("unit", sort=True, observed=True)["births"].sum()
    assert list(got["unit"]) == list(ref.index)
    assert list(got["births"]) == list(ref)  # A: 2 + 4 = 6, B: 1 + 3 = 4 (or 12: 1 + 3)
    assert got["unit"].dtype == ref.index.dtype
