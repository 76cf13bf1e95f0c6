#!/usr/bin/env python3
"""Fills a Moat store's exchange log with the first N exchanges of a contract JSONL log (for
scripts/bench-resume.sh): rows as the gateway's ingester writes them (id, ts_ms, account_id, line)."""
import datetime
import json
import sqlite3
import sys

log, store, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(store)
rows = []
n = 0
with open(log, encoding="utf-8") as f:
    for line in f:
        if n >= limit:
            break
        line = line.rstrip("\n")
        if not line:
            continue
        e = json.loads(line)
        ts = datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))
        rows.append((e["id"], int(ts.timestamp() * 1000), e["account_id"], line))
        n += 1
        if len(rows) == 20000:
            db.executemany("INSERT OR IGNORE INTO exchanges (id, ts_ms, account_id, line) VALUES (?, ?, ?, ?)", rows)
            db.commit()
            rows = []
db.executemany("INSERT OR IGNORE INTO exchanges (id, ts_ms, account_id, line) VALUES (?, ?, ?, ?)", rows)
db.commit()
print(n)
