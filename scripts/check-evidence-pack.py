#!/usr/bin/env python3
"""Checks an mdm-audit evidence pack (`mdm-audit report --format json`) or a narrative
(`mdm-audit narrate --format json`) from the file alone, with nothing of mdm-audit: Python's
standard library only, so an auditor can read every line of it.

For every sentence of every narrative in the file:
  1. every citation it names is listed in the same file with its event uids, and every one of those
     uids has its row in the file's `events`;
  2. every date (YYYY-MM-DD) and clock time (HH:MM) it states is the UTC or local time of a cited
     row;
  3. every number it states is a count over its cited rows: the rows, failed, succeeded, high or
     critical risk, distinct devices, actors, administrators, targets, vendors, feeds or actions
     (over all cited rows, or over the rows of one citation), the number of citations, the
     citations per risk level, or a number inside a cited row's value;
  4. every name it states (a quoted value, a word with a digit, '@' or '_', or a capitalized word
     inside the sentence) is in a cited row.

Exit status 0 when everything checks, 1 otherwise (each failure printed). Usage:
    scripts/check-evidence-pack.py FILE.json
"""

import json
import re
import sys
from datetime import datetime, timezone

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover
    ZoneInfo = None

ADMIN_KINDS = {"user", "app", "api_client", "partner"}
DEVICE_REPORTS = {"check_in", "inventory", "compliance_change", "command_completed",
                  "mdm_capability_changed", "status_change"}
LEVELS = ["none", "low", "medium", "high", "critical"]


def actor(r):
    return r.get("actor_upn") or r.get("actor_name") or r.get("actor_id")


def device(r):
    return r.get("device_name") or r.get("device_serial") or r.get("device_id")


def target(r):
    if r.get("target_type") == "device":
        return None
    return r.get("target_name") or r.get("target_id")


def administrative(r):
    kind = r.get("actor_kind")
    if kind == "device" or kind == "system" or actor(r) is None:
        return False
    return kind in ADMIN_KINDS or r.get("action") not in DEVICE_REPORTS


def counts(rows):
    def d(f):
        return len({f(r) for r in rows if f(r) is not None})
    return {
        len(rows),
        sum(r.get("outcome") in ("failure", "failed", "error") for r in rows),
        sum(r.get("outcome") in ("success", "succeeded") for r in rows),
        sum(r.get("risk_level") in ("high", "critical") for r in rows),
        d(device), d(actor), d(lambda r: actor(r) if administrative(r) else None), d(target),
        d(lambda r: r.get("vendor")), d(lambda r: r.get("feed")), d(lambda r: r.get("action")),
    }


def values(r):
    out = []
    for k, v in r.items():
        if k in ("changes",):
            for c in v or []:
                out += [c.get("path"), c.get("old"), c.get("new")]
        elif isinstance(v, list):
            out += [str(x) for x in v]
        elif isinstance(v, str):
            out.append(v)
            if k == "target_type":
                out.append(v.replace("_", " "))
    return [v for v in out if v]


def times(r):
    t = datetime.fromisoformat(r["time"].replace("Z", "+00:00")).astimezone(timezone.utc)
    out = [(t.strftime("%Y-%m-%d"), t.strftime("%H:%M"))]
    zone = r.get("local_zone")
    if zone and ZoneInfo:
        lt = t.astimezone(ZoneInfo(zone))
        out.append((lt.strftime("%Y-%m-%d"), lt.strftime("%H:%M")))
    return out


def check_narrative(n, problems):
    rows = {r["event_uid"]: r for r in n.get("events", [])}
    cits = {c["id"]: c for c in n.get("citations", [])}
    resolved = 0
    sentences = 0
    for sec in n.get("sections", []):
        for s in sec.get("sentences", []):
            sentences += 1
            text = s["text"]
            cited_rows = []
            per_citation = []
            ok = True
            for cid in s.get("citations", []):
                c = cits.get(cid)
                if c is None:
                    problems.append(f"{text!r}: citation {cid} is not in the file")
                    ok = False
                    continue
                missing = [u for u in c["event_uids"] if u not in rows]
                if missing:
                    problems.append(f"{text!r}: citation {cid}: {len(missing)} events have no row")
                    ok = False
                    continue
                resolved += 1
                rs = [rows[u] for u in c["event_uids"]]
                per_citation.append(rs)
                cited_rows += rs
            if not ok:
                continue
            uniq = list({r["event_uid"]: r for r in cited_rows}.values())
            nums = set(counts(uniq))
            levels = {}
            for rs in per_citation:
                nums |= counts(rs)
                lvl = max((LEVELS.index(r.get("risk_level", "none")) if r.get("risk_level") in LEVELS else 0)
                          for r in rs) if rs else 0
                levels[lvl] = levels.get(lvl, 0) + 1
            nums |= set(levels.values()) | {len(per_citation), sum(len(rs) for rs in per_citation)}
            vals = [v for r in uniq for v in values(r)]
            for v in vals:
                nums |= {int(x) for x in re.findall(r"\d+", v) if len(x) <= 18}
            nums |= {int(r.get("risk_score", 0)) for r in uniq}
            stamps = [t for r in uniq for t in times(r)]
            dates = {d for d, _ in stamps}
            clocks = {c for _, c in stamps}
            # Values stated, longest first, are taken out before the rest is read.
            rest = text
            for v in sorted(set(vals), key=len, reverse=True):
                if len(v) >= 2:
                    rest = re.sub(r"(?<![\w])" + re.escape(v) + r"(?![\w])", " VALUE ", rest,
                                  flags=re.IGNORECASE)
            for q in re.findall(r'"([^"]+)"', rest):
                if q.strip() == "VALUE" or q.lower() in {v.lower() for v in vals}:
                    continue
                problems.append(f"{text!r}: the quoted value {q!r} is in no cited row")
            for d in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", rest):
                if d not in dates:
                    problems.append(f"{text!r}: the date {d} is no cited row's time")
            rest = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", " ", rest)
            for c in re.findall(r"\b\d{1,2}:\d{2}\b", rest):
                if c.zfill(5) not in clocks:
                    problems.append(f"{text!r}: the time {c} is no cited row's time")
            rest = re.sub(r"\b\d{1,2}:\d{2}\b", " ", rest)
            rest = re.sub(r"(?<=\d),(?=\d{3}\b)", "", rest)
            words = set(w.lower() for v in vals for w in re.findall(r"[\w@.-]+", v))
            for tok in re.findall(r"[\w@.'-]+", rest):
                tok = tok.strip(".-'")
                if not tok or tok == "VALUE":
                    continue
                if re.fullmatch(r"[\d,]+", tok):
                    if int(tok.replace(",", "")) not in nums:
                        problems.append(f"{text!r}: the number {tok} is no count of its cited rows")
                elif any(ch.isdigit() for ch in tok) or "@" in tok or "_" in tok:
                    if tok.lower() not in words:
                        problems.append(f"{text!r}: the name {tok} is in no cited row")
    return resolved, sentences


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    narratives = doc.get("narratives", [doc] if "sections" in doc else [])
    problems = []
    total_c = total_s = 0
    for n in narratives:
        c, s = check_narrative(n, problems)
        total_c += c
        total_s += s
    for p in problems:
        print("FAIL", p)
    print(f"{len(narratives)} narratives, {total_s} sentences, {total_c} citations resolved to rows, "
          f"{len(problems)} problems")
    return 1 if problems or not narratives else 0


if __name__ == "__main__":
    sys.exit(main())
