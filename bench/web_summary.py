"""The summary of bench/web.py: percentiles, the ours / floor ratios, the checks against the issue's bar, the text."""

from __future__ import annotations

import math

from bench.web_client import PAGE_KINDS, Run

KINDS = (*PAGE_KINDS, "static")
MAX_PAGE_BYTES = 30_000  # "under 30 KB over the wire", read strictly: decimal kilobytes, headers included
MAX_P95_MS = 20.0


def percentiles(seconds: list[float]) -> dict:
    """n, mean and nearest-rank p50/p95/p99, in milliseconds."""
    if not seconds:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "p99": None}
    ordered = sorted(seconds)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000, 2)

    return {"n": len(ordered), "mean": round(sum(ordered) / len(ordered) * 1000, 2),
            "p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}


def phase_result(system: str, clients: int, run: Run, stats: dict) -> dict:
    requests = sum(len(v) for v in run.timings.values())
    per = 1000 / max(requests, 1)
    return {"phase": f"{system} x{clients}", "system": system, "clients": clients, "surveys": run.surveys,
            "completed": run.completed, "errors": run.errors[:3], "error_count": len(run.errors),
            "requests": requests, "seconds": round(run.seconds, 3),
            "requests_per_s": round(requests / run.seconds, 1), "surveys_per_s": round(run.completed / run.seconds, 2),
            "client_ms": {k: percentiles(run.timings.get(k, [])) for k in KINDS},
            "server_ms": {k: percentiles(stats["times"].get(k, [])) for k in KINDS},
            "server_cpu_ms_per_request": round(stats["cpu_s"] * per, 3),
            "server_loop_thread_cpu_ms_per_request": round(stats["loop_thread_cpu_s"] * per, 3),
            "server_other_threads_cpu_ms_per_request": round(stats["other_threads_cpu_s"] * per, 3),
            "client_cpu_ms_per_request": round(run.cpu_seconds * per, 3),
            "responses_stored": stats.get("responses"), "invitations_completed": stats.get("completed")}


def ratios(phases: list[dict]) -> dict:
    """Per number of clients: ours / floor for each page kind's p50 and p95 (client and server side), the server
    CPU per request, and the throughput."""
    out: dict = {}
    by = {(p["system"], p["clients"]): p for p in phases}
    for (system, clients), ours in by.items():
        floor = by.get(("floor", clients))
        if system == "floor" or floor is None:
            continue

        def ratio(a, b):
            return round(a / b, 2) if a is not None and b else None

        out[f"{system} x{clients}"] = {
            "client": {k: {q: ratio(ours["client_ms"][k][q], floor["client_ms"][k][q]) for q in ("p50", "p95")}
                       for k in PAGE_KINDS},
            "server": {k: {q: ratio(ours["server_ms"][k][q], floor["server_ms"][k][q]) for q in ("p50", "p95")}
                       for k in PAGE_KINDS},
            "server_cpu_per_request": ratio(ours["server_cpu_ms_per_request"], floor["server_cpu_ms_per_request"]),
            "throughput": ratio(ours["requests_per_s"], floor["requests_per_s"])}
    return out


def failures(summary: dict, *, max_page_bytes: int = MAX_PAGE_BYTES, max_p95_ms: float = MAX_P95_MS) -> list[str]:
    """What misses the bar: the question page's weight, external resources, the p95 of any page kind on our server
    with one citizen at a time (measured at the client, so server time plus loopback), surveys not completed."""
    out = []
    weight = summary["weight"]
    if weight["question_cold_bytes"] > max_page_bytes:
        out.append(f"the question page weighs {weight['question_cold_bytes']:,} bytes over the wire with its "
                   f"stylesheet and script (limit {max_page_bytes:,})")
    if weight["external_resources"]:
        out.append(f"external resources: {', '.join(weight['external_resources'])}")
    for name, runs in summary["every_run"].items():
        for run in runs:
            if run["completed"] < run["surveys"]:
                out.append(f"{name}: {run['completed']} of {run['surveys']} surveys completed; {run['errors'][:1]}")
        if name == "ours x1":
            best = {k: min(r["client_p95_ms"][k] or 0 for r in runs) for k in PAGE_KINDS}
            if slow := {k: v for k, v in best.items() if v > max_p95_ms}:
                out.append(f"{name}: p95 over {max_p95_ms:g} ms in every run: "
                           + ", ".join(f"{k} {v:.1f} ms (its best run)" for k, v in slow.items()))
    return out


def _triple(p: dict) -> str:
    return "-" if p["p50"] is None else f"{p['p50']:.2f} / {p['p95']:.2f} / {p['p99']:.2f}"


def render_weight(w: dict) -> list[str]:
    lines = ["", f"weight over the wire (one survey; sent Accept-Encoding: {w['accept_encoding_sent']}; server "
             f"compresses: {', '.join(w['server_compresses']) if w['server_compresses'] else 'no'}):",
             f"  {'kind':<11}{'pages':>6}{'body B':>14}{'headers B':>12}{'gzip body B':>14}"]
    for kind, p in w["pages"].items():
        def span(pair):
            return f"{pair[0]:,}" if pair[0] == pair[1] else f"{pair[0]:,}-{pair[1]:,}"
        lines.append(f"  {kind:<11}{p['count']:>6}{span(p['body_bytes']):>14}{span(p['header_bytes']):>12}"
                     f"{span(p['gzip_body_bytes']):>14}")
    for path, s in w["static"].items():
        lines.append(f"  {path}: {s['body_bytes']:,} B + {s['header_bytes']} B headers (gzip {s['gzip_body_bytes']:,}"
                     f" B), Cache-Control: {s['cache_control']}")
    lines += [f"  question page, cold (the heaviest question, {w['heaviest_question']}, with its stylesheet and "
              f"script, headers included): {w['question_cold_bytes']:,} B (gzip would make it "
              f"{w['question_cold_gzip_bytes']:,} B); warm (cached static): {w['question_warm_bytes']:,} B; the whole "
              f"survey: {w['survey_bytes']:,} B in {w['survey_requests']} requests",
              f"  external resources: {', '.join(w['external_resources']) or 'none'}; external links: "
              f"{', '.join(w['external_links']) or 'none'}"]
    return lines


def render_summary(summary: dict) -> str:
    c, m = summary["config"], summary["machine"]
    lines = [f"Web survey benchmark: {c['survey']} ({c['questions']} questions), "
             + ", ".join(f"{k} client{'s' if k > 1 else ''} x {n} surveys" for k, n in c["phases"])
             + f", SQLite, best of {c['repeat']}",
             f"machine: {m['cpus']} CPUs, {m['cpu_model']}, {m['memory_mib']} MiB; Python {m['python']}, aiohttp "
             f"{m['aiohttp']}, Jinja2 {m['jinja2']}, SQLite {m['sqlite']}; load {m['load_average_1m']}", "",
             f"{'phase':<22}{'requests':>9}{'req/s':>8}{'surveys/s':>10}{'server CPU ms/req':>19}"
             f"{'(loop + threads)':>18}{'client CPU ms/req':>19}"]
    for p in summary["phases"]:
        lines.append(f"{p['phase']:<22}{p['requests']:>9}{p['requests_per_s']:>8.1f}{p['surveys_per_s']:>10.2f}"
                     f"{p['server_cpu_ms_per_request']:>19.3f}"
                     f"{p['server_loop_thread_cpu_ms_per_request']:>9.2f} + "
                     f"{p['server_other_threads_cpu_ms_per_request']:<6.2f}{p['client_cpu_ms_per_request']:>19.3f}")
    lines += ["", "latency ms, p50 / p95 / p99: at the client (send to last byte) | the server's handler (middleware)",
              f"{'phase':<22}{'kind':<11}{'n':>6}  {'client':>24}  {'server handler':>24}"]
    for p in summary["phases"]:
        for kind in KINDS:
            if p["client_ms"][kind]["n"]:
                lines.append(f"{p['phase']:<22}{kind:<11}{p['client_ms'][kind]['n']:>6}  "
                             f"{_triple(p['client_ms'][kind]):>24}  {_triple(p['server_ms'][kind]):>24}")
    lines += ["", "every run (requests/s; client p95 ms of question, answer):"]
    for name, runs in summary["every_run"].items():
        lines.append(f"  {name:<22}" + ", ".join(f"{r['requests_per_s']:.0f} ({r['client_p95_ms']['question']:.1f}, "
                                                 f"{r['client_p95_ms']['answer']:.1f})" for r in runs))
    lines.append("")
    for name, r in summary["ratio"].items():
        lines.append(f"{name} / floor: " + ", ".join(
            f"{k} {r['client'][k]['p50']}x/{r['client'][k]['p95']}x" for k in PAGE_KINDS)
            + f" (client p50/p95); server CPU per request {r['server_cpu_per_request']}x; "
              f"throughput {r['throughput']}x")
    lines += render_weight(summary["weight"])
    if profile := summary.get("profile"):
        lines += ["", f"profile of our server's event loop thread ({c['profile_surveys']} surveys, 1 client, "
                  f"{profile['requests']} requests; {profile['ms_per_request']} ms of own time per request under "
                  "cProfile, idle waits left out), share by package: "
                  + ", ".join(f"{k} {v:.0%}" for k, v in profile["by_package"].items() if v >= 0.01),
                  "  calls handed to aiosqlite's thread per request: " + ", ".join(
                      f"{k} {v:g}" for k, v in profile["aiosqlite_calls_per_request"].items()),
                  "  top functions by own time:"]
        lines += [f"    {t['tottime_s']:>8.3f} s {t['calls']:>8} calls  {t['function']}" for t in profile["top"]]
        lines.append("  our functions by cumulative time (while running):")
        lines += [f"    {t['cumtime_s']:>8.3f} s {t['calls']:>8} calls  {t['function']}"
                  for t in profile["ours_cumulative"]]
    if summary.get("server_warnings"):
        lines += ["", "our server logged:", *[f"  {line}" for line in summary["server_warnings"]]]
    failed = summary["failures"]
    lines += ["", "bar (question page <= {:,} B cold, no external resources, p95 <= {:g} ms per page kind with 1 "
              "client in at least one run): ".format(c["max_page_bytes"], c["max_p95_ms"])
              + ("met" if not failed else "MISSED"),
              *[f"  MISSED: {f}" for f in failed]]
    return "\n".join(lines)
