"""The summary of bench/telegram.py: ours / floor ratios, the goal, the service layer alone, the printed table."""

from __future__ import annotations

PHASES = ("floor-serial", "floor", "ours-serial", "ours", "ours-paced", "floor-paced")


def score(result: dict) -> tuple:
    """Fewer incomplete surveys first; then capacity phases by cost per step, paced ones by p99."""
    p99 = result["latency_ms"]["post_to_next_question"]["p99"]
    return (result["citizens"] - result["completed"],
            (p99 or float("inf")) if result["offered_steps_per_s"] else result["wall_ms_per_step"])


def verdict(results: dict[str, dict]) -> dict:
    out: dict = {"ratio": {}}
    for ours, floor in (("ours", "floor"), ("ours-serial", "floor-serial")):
        if ours in results and floor in results:
            out["ratio"][ours] = {key: round(results[ours][key] / results[floor][key], 2)
                                  for key in ("wall_ms_per_step", "cpu_ms_per_step")}
    paced = results.get("ours-paced")
    if "ours" in out["ratio"] and paced:
        p99 = paced["latency_ms"]["post_to_next_question"]["p99"]
        out["goal"] = {"cost_ratio_at_most_1_5": out["ratio"]["ours"]["wall_ms_per_step"] <= 1.5,
                       "p99_under_250_ms": p99 is not None and p99 < 250, "paced_p99_ms": p99,
                       "paced_steps_per_s": paced["offered_steps_per_s"]}
        floor_paced = results.get("floor-paced")
        if floor_paced:  # context: whether the floor itself keeps up at that rate
            out["goal"]["floor_paced_p99_ms"] = floor_paced["latency_ms"]["post_to_next_question"]["p99"]
    return out


def render_service(summary: dict) -> list[str]:
    if not (service := summary.get("service")):
        return []
    lines = ["", "service layer alone (SurveyService.handle), every run:",
             f"  {'run':<5}{'mode':<12}{'steps':>7}{'ms/step':>9}{'CPU ms':>8}{'p50 ms':>8}{'p99 ms':>8}"]
    for number, run in enumerate(service["runs"], 1):
        for mode in ("serial", "concurrent"):
            m = run[mode]
            lines.append(f"  {number:<5}{mode:<12}{m['steps']:>7}{m['wall_ms_per_step']:>9.3f}"
                         f"{m['cpu_ms_per_step']:>8.3f}{m['p50_ms']:>8.2f}{m['p99_ms']:>8.2f}")
    return lines


def render_summary(summary: dict) -> str:
    c, m = summary["config"], summary["machine"]
    lines = [f"Telegram webhook benchmark: {c['citizens']} citizens x {c['survey']} ({c['steps_per_citizen']} steps "
             f"each), concurrency {c['concurrency']}, Bot API limiter: "
             f"{'30 msg/s (shipped)' if c['telegram_cap'] else 'no 30/s bucket'}",
             f"machine: {m['cpus']} CPUs, {m['cpu_model']}, {m['memory_mib']} MiB; Python {m['python']}, "
             f"PTB {m['python_telegram_bot']}, SQLite {m['sqlite']}", "",
             f"{'phase':<13}{'delivery':<24}{'offered/s':>10}{'steps':>7}{'steps/s':>9}{'ms/step':>9}"
             f"{'CPU ms':>8}  {'POST>reply':>12}  {'POST>question':>14}  {'press>question':>15}",
             f"{'':<13}{'':<24}{'':>10}{'':>7}{'':>9}{'wall':>9}{'/step':>8}  {'p50/p99 ms':>12}  "
             f"{'p50/p99 ms':>14}  {'p50/p99 ms':>15}"]
    notes: list[str] = []
    for p in summary["phases"]:
        lat = p["latency_ms"]

        def pair(key: str, lat=lat) -> str:
            return f"{lat[key]['p50']:.0f}/{lat[key]['p99']:.0f}" if lat[key]["p50"] is not None else "-"

        offered = f"{p['offered_steps_per_s']:.1f}" if p["offered_steps_per_s"] else "max"
        lines.append(f"{p['phase']:<13}{p['delivery']:<24}{offered:>10}{p['steps']:>7}{p['steps_per_s']:>9.1f}"
                     f"{p['wall_ms_per_step']:>9.2f}{p['cpu_ms_per_step']:>8.2f}  {pair('post_to_first_reply'):>12}  "
                     f"{pair('post_to_next_question'):>14}  {pair('press_to_next_question'):>15}")
        if p["completed"] < p["citizens"] or p["logged_count"] or lat["failed_posts"]:
            notes.append(f"{p['phase']}: {p['completed']} of {p['citizens']} surveys completed, {lat['failed_posts']} "
                         f"webhook POSTs failed, {p['logged_count']} warnings/errors logged"
                         + (f", e.g. {p['logged'][0]}" if p["logged"] else "")
                         + (f"; incomplete: {next(iter(p['incomplete'].values()))}" if p["incomplete"] else ""))
    lines += ["", *notes] if notes else []
    lines += render_service(summary)
    lines.append("")
    for name, ratio in summary["ratio"].items():
        lines.append(f"cost per step, {name} / floor: {ratio['wall_ms_per_step']:.2f}x wall, "
                     f"{ratio['cpu_ms_per_step']:.2f}x CPU (goal: at most 1.5x)")
    if goal := summary.get("goal"):
        lines.append(f"ours at {goal['paced_steps_per_s']:.1f} offered steps/s: p99 POST to next question "
                     f"{goal['paced_p99_ms']:.0f} ms (goal: under 250 ms"
                     + (f"; the floor's own: {goal['floor_paced_p99_ms']:.0f} ms" if "floor_paced_p99_ms" in goal
                        else "") + "); goal "
                     f"{'met' if goal['cost_ratio_at_most_1_5'] and goal['p99_under_250_ms'] else 'MISSED'}")
    return "\n".join(lines)


