from __future__ import annotations

import pytest

from datalake.jobs import resolve_args


def test_job_args_fall_back_to_argparse_with_defaults() -> None:
    args = resolve_args(["raw_prefix", "JOB_NAME"], {"JOB_NAME": "j"}, ["job.py", "--raw_prefix", "raw/x"])
    assert args == {"raw_prefix": "raw/x", "JOB_NAME": "j"}


def test_missing_required_job_arg_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        resolve_args(["raw_prefix"], {}, ["job.py"])
    assert "--raw_prefix" in capsys.readouterr().err


def test_glue_style_extra_arguments_are_ignored() -> None:
    argv = ["job.py", "--JOB_ID", "jr_1", "--raw_prefix", "raw/y", "--enable-metrics", "true"]
    assert resolve_args(["raw_prefix"], {}, argv) == {"raw_prefix": "raw/y"}
