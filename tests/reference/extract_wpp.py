"""Extract the UN WPP 2024 figures that tests/test_projection_cohort.py needs.

Source: the PyPI package ``starsim-data`` version 2.0.0 (wheel
``starsim_data-2.0.0-py3-none-any.whl``), file ``starsim_data/data/demographics-2024.h5``.
Its ``data/README.md`` describes the layout: one group per series, one dataset per location,
each group with a JSON ``spec`` attribute naming its years, sexes and ages:

* ``/population/<Location>``: (year, sex, age) persons by 5-year age group (0, 5, ..., 100+);
* ``/deaths/<Location>``: (year, sex, age) abridged central death rates mx (0, 1, 5, ..., 100);
* ``/births/<Location>``: (year,) crude birth rate per 1000;
* ``/migration/<Location>``: (year,) crude net migration rate per 1000.

The snapshots are decadal (1950, 1960, ..., 2100; Medium variant), stored as float32. This
script writes ``wpp2024_china_india.csv`` beside itself, in long form with columns
``location, series, year, sex, age, value`` (``sex`` is empty for the crude rates), for
China and India in 2010 and 2020. It needs h5py (not a project dependency)::

    python -m venv /tmp/h5env && /tmp/h5env/bin/pip install h5py
    unzip starsim_data-2.0.0-py3-none-any.whl -d /tmp/ss
    /tmp/h5env/bin/python tests/reference/extract_wpp.py \
        /tmp/ss/starsim_data/data/demographics-2024.h5

Data: United Nations, Department of Economic and Social Affairs, Population Division (2024).
World Population Prospects 2024 (CC BY 3.0 IGO), via starsim-data 2.0.0.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import h5py

LOCATIONS = ("China", "India")
YEARS = (2010, 2020)
OUT = Path(__file__).with_name("wpp2024_china_india.csv")


def main(h5_path: str) -> None:
    rows = []
    with h5py.File(h5_path, "r") as f:
        for series in ("population", "deaths", "births", "migration"):
            spec = json.loads(f[series].attrs["spec"])
            years = spec["years"]
            for loc in LOCATIONS:
                data = f[series][loc][()]
                for year in YEARS:
                    y = years.index(year)
                    if spec["layout"] == "crude":
                        rows.append((loc, series, year, "", "", f"{float(data[y]):.9g}"))
                        continue
                    for s, sex in enumerate(spec["sexes"]):
                        for a, age in enumerate(spec["ages"]):
                            rows.append((loc, series, year, sex.lower(), age,
                                         f"{float(data[y, s, a]):.9g}"))
    with OUT.open("w", newline="", encoding="utf-8") as fh:
        fh.write("# UN World Population Prospects 2024 (Medium variant; CC BY 3.0 IGO), from the "
                 "PyPI package starsim-data 2.0.0, file starsim_data/data/demographics-2024.h5,\n"
                 "# datasets /population/<loc> (persons by 5-year group, age = start, 100 = "
                 "100+), /deaths/<loc> (mx, abridged: 0, 1, 5, ..., 100+),\n"
                 "# /births/<loc> (crude birth rate per 1000), /migration/<loc> (crude net "
                 "migration rate per 1000); float32 values written with 9 significant digits.\n"
                 "# Extracted by tests/reference/extract_wpp.py (see its docstring).\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["location", "series", "year", "sex", "age", "value"])
        writer.writerows(rows)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         "/tmp/ss/starsim_data/data/demographics-2024.h5")
