"""Reading Bats' TAP output."""

import pytest

from grader.tap import TapError, parse

SAMPLE = """1..4
ok 1 [build] compiles in 120ms
not ok 2 [hello] exchange hellos in 300ms
# (in test file labs/x/tests/a.bats, line 3)
#   `assert_ok server' failed
# server's output: line 1 missing
#   MISSING  Message from client
ok 3 [ref] reference works in 10ms # skip the reference is not available here
not ok 4 [slow] waits in 1003ms # timeout after 1s
# (in test file labs/x/tests/a.bats, line 9)
"""


def test_parses_results_ids_times_and_directives() -> None:
    run = parse(SAMPLE)
    assert run.planned == 4
    assert [r.test_id for r in run.results] == ["build", "hello", "ref", "slow"]
    assert [r.ok for r in run.results] == [True, False, True, False]
    assert run.results[0].title == "compiles"
    assert run.results[0].time_s == pytest.approx(0.12)
    assert run.results[2].skip == "the reference is not available here"
    assert run.results[3].timed_out


def test_failure_message_drops_bats_location_lines() -> None:
    message = parse(SAMPLE).results[1].message
    assert message == ["server's output: line 1 missing", "  MISSING  Message from client"]


def test_results_out_of_sequence_are_reported_not_counted() -> None:
    run = parse("1..2\nok 1 [a] first\nok 1 [a] first again\nok 7 [x] forged\nnot ok 2 [b] b\n")
    assert [r.test_id for r in run.results] == ["a", "b"]
    assert len(run.problems) == 2


def test_student_output_in_diagnostics_cannot_pass_a_test() -> None:
    run = parse("1..1\nnot ok 1 [a] a\n# ok 1 [a] a\n# ok 2 [b] b\n")
    assert len(run.results) == 1 and not run.results[0].ok


def test_titles_without_an_id_keep_their_text() -> None:
    run = parse("1..1\nok 1 plain title\n")
    assert run.results[0].test_id == "" and run.results[0].title == "plain title"


def test_no_plan_is_an_error() -> None:
    with pytest.raises(TapError):
        parse("bats: command not found\n")
