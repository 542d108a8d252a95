"""bench/telegram.py stays runnable: every phase, 3 citizens of sipas-quick, both bots complete every survey, and
the service layer alone (--service)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import telegram as bench  # noqa: E402

LATENCIES = ("post_to_first_reply", "post_to_next_question", "press_to_next_question", "post_to_http_200")


async def test_both_bots_complete_every_survey_and_the_summary_has_its_fields():
    summary = await bench.run_benchmark(citizens=3, survey="sipas-quick", rate=200.0, service=True)

    assert summary["config"]["steps_per_citizen"] == 6 and summary["config"]["paced_steps_per_s"] == 200.0
    phases = {p["phase"]: p for p in summary["phases"]}
    assert list(phases) == list(bench.PHASES)
    for name, phase in phases.items():
        assert phase["completed"] == phase["citizens"] == 3, (name, phase["incomplete"], phase["logged"])
        assert phase["steps"] == 18 and phase["steps_per_s"] > 0 and phase["cpu_ms_per_step"] > 0
        assert phase["logged_count"] == 0 and phase["latency_ms"]["failed_posts"] == 0, (name, phase["logged"])
        for key in LATENCIES:
            timing = phase["latency_ms"][key]
            assert 0 <= timing["p50"] <= timing["p99"], (name, key, timing)
    assert phases["ours"]["responses_stored"] == phases["ours"]["invitations_completed"] == 3
    assert phases["floor-serial"]["delivery"] == "one at a time"
    assert phases["floor"]["delivery"] == "up to 40 in flight"
    assert set(summary["ratio"]) == {"ours", "ours-serial"}
    assert summary["ratio"]["ours"]["wall_ms_per_step"] > 0
    assert set(summary["goal"]) >= {"cost_ratio_at_most_1_5", "p99_under_250_ms", "paced_p99_ms"}
    for run in summary["service"]["runs"]:
        for mode in ("serial", "concurrent"):
            assert run[mode]["steps"] == 18 and run[mode]["wall_ms_per_step"] > 0, (mode, run)
            assert 0 < run[mode]["p50_ms"] <= run[mode]["p99_ms"], (mode, run)
    text = bench.render_summary(summary)
    assert "cost per step, ours / floor" in text and "ours-paced" in text
    assert "service layer alone (SurveyService.handle)" in text
