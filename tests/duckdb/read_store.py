"""Read an mdm-audit events table with DuckDB, an engine independent of ours, from the data files
the Delta log lists (adds minus removes), and print what it sees as JSON:

    python read_store.py <store>/events [event_uid ...]

{"rows": N, "distinct_uids": N, "days": {"2026-03-02": N, ...}, "chains": {"<chain_id>": [min_seq, max_seq, rows]},
 "events": {"<uid>": {"action": ..., "vendor": ..., "time": "<ISO 8601 UTC>", "risk_tags": [...]}}}
"""

import glob
import json
import os
import sys
import urllib.parse

import duckdb


def live_files(table: str) -> list:
    live = {}
    for path in sorted(glob.glob(os.path.join(table, "_delta_log", "*.json"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                action = json.loads(line)
                if "add" in action:
                    live[action["add"]["path"]] = True
                elif "remove" in action:
                    live.pop(action["remove"]["path"], None)
    return [os.path.join(table, urllib.parse.unquote(p)) for p in live]


def main(table: str, uids: list) -> int:
    files = live_files(table)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # A view cannot take a prepared parameter: build the relation from the file list instead.
    con.read_parquet(files, hive_partitioning=True).create_view("events")
    rows, distinct = con.execute("SELECT count(*), count(DISTINCT event_uid) FROM events").fetchone()
    days = {
        str(d): n
        for d, n in con.execute("SELECT day, count(*) FROM events GROUP BY day ORDER BY day").fetchall()
    }
    chains = {
        c: [lo, hi, n]
        for c, lo, hi, n in con.execute(
            "SELECT chain_id, min(chain_seq), max(chain_seq), count(*) FROM events GROUP BY chain_id"
        ).fetchall()
    }
    events = {}
    if uids:
        for uid, action, vendor, time, tags in con.execute(
            "SELECT event_uid, action, vendor, strftime(time, '%Y-%m-%dT%H:%M:%S.%fZ'), risk_tags "
            "FROM events WHERE event_uid IN (SELECT unnest(?))",
            [uids],
        ).fetchall():
            events[uid] = {"action": action, "vendor": vendor, "time": time, "risk_tags": list(tags)}
    json.dump(
        {"rows": rows, "distinct_uids": distinct, "days": days, "chains": chains, "events": events},
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
