#!/usr/bin/env python3
"""Deemed infection rate and infected-customer list over botscope's query lake.

The same computation as `botscope dns rate --window 1d` (exact mode), in
Spark SQL, for lakes written by `botscope dns ingest LOGS --parquet DIR`
(Parquet partitioned by `day=YYYY-MM-DD`, columns ts, client, client_key,
qname, server, source — see docs/dns.md).

Watch-list syntax (same as botscope): one entry a line, `#` comments;
`name` matches exactly; `*.zone` matches names below the zone; `zone:zone`
or `.zone` matches the zone and everything below it. Allow-list entries
cover the name and everything below it. Names are compared lower-case,
without a trailing dot, Unicode labels as punycode A-labels.

Local run:   python3 jobs/deemed_rate.py --lake DIR --watchlist W --out OUT
Cluster run: spark-submit --master yarn jobs/deemed_rate.py --lake hdfs://... ...

Writes OUT/rate.json: {"days": [...], "total": {...}, "infected": [...]}.
"""

import argparse
import json
import os
import sys


def normalize(name):
    """Lower case, no trailing dot, Unicode labels as A-labels (validated)."""
    n = name.strip()
    if n.endswith("."):
        n = n[:-1]
    if not n:
        raise ValueError("empty name")
    labels = []
    for label in n.split("."):
        if not label:
            raise ValueError("empty label")
        if not label.isascii():
            label = "xn--" + label.lower().encode("punycode").decode("ascii")
        label = label.lower()
        if len(label) > 63:
            raise ValueError("label longer than 63 octets")
        for c in label:
            if not (c.isascii() and (c.isalnum() or c in "-_")):
                raise ValueError("invalid character %r" % c)
        if label.startswith("-") or label.endswith("-"):
            raise ValueError("label starts or ends with '-'")
        labels.append(label)
    out = ".".join(labels)
    if len(out) > 253:
        raise ValueError("name longer than 253 octets")
    return out


def read_list(path, allow=False):
    """Returns [(kind, name)] with kind in exact / zone / below."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                if text.startswith("*."):
                    entries.append(("below", normalize(text[2:])))
                elif text.startswith("zone:"):
                    entries.append(("zone", normalize(text[5:])))
                elif text.startswith("."):
                    entries.append(("zone", normalize(text[1:])))
                else:
                    entries.append(("zone" if allow else "exact", normalize(text)))
            except ValueError as e:
                sys.exit("%s line %d: invalid name %r: %s" % (path, i, text, e))
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--watchlist", required=True, action="append")
    ap.add_argument("--allowlist", action="append", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("--master", default=None, help="e.g. local[2]; default: spark-submit's")
    args = ap.parse_args()

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    builder = SparkSession.builder.appName("botscope-deemed-rate")
    if args.master:
        builder = builder.master(args.master)
        if args.master.startswith("local"):
            # Local mode stays on loopback.
            builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
    spark = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")

    watch = [e for w in args.watchlist for e in read_list(w)]
    allow = [e for a in args.allowlist for e in read_list(a, allow=True)]
    # depth 0 = the name itself; depth k = the suffix after k labels.
    pats = spark.createDataFrame(
        [(k, n, "watch") for k, n in watch] + [(k, n, "allow") for k, n in allow] or [("none", "", "watch")],
        "kind string, pattern string, list string",
    )

    q = spark.read.parquet(args.lake)
    q = q.withColumn("day", F.date_format(F.col("ts"), "yyyy-MM-dd"))
    q = q.withColumn("qid", F.monotonically_increasing_id())
    labels = F.split(F.col("qname"), r"\.")
    suffixes = q.select(
        "qid",
        F.posexplode(
            F.transform(
                F.sequence(F.lit(0), F.size(labels) - 1),
                lambda i: F.array_join(F.slice(labels, i + 1, 1000), "."),
            )
        ).alias("depth", "suffix"),
    )
    hits = suffixes.join(pats, suffixes.suffix == pats.pattern).where(
        ((F.col("kind") == "exact") & (F.col("depth") == 0))
        | (F.col("kind") == "zone")
        | ((F.col("kind") == "below") & (F.col("depth") > 0))
    )
    flags = hits.groupBy("qid").agg(
        F.max(F.when(F.col("list") == "watch", 1).otherwise(0)).alias("w"),
        F.max(F.when(F.col("list") == "allow", 1).otherwise(0)).alias("a"),
    )
    q = q.join(flags, "qid", "left").withColumn(
        "matched", (F.coalesce(F.col("w"), F.lit(0)) == 1) & (F.coalesce(F.col("a"), F.lit(0)) == 0)
    )
    q.cache()

    def rate_rows(df, keys):
        return df.groupBy(*keys).agg(
            F.countDistinct("client_key").alias("clients"),
            F.countDistinct(F.when(F.col("matched"), F.col("client_key"))).alias("infected"),
            F.count(F.lit(1)).alias("queries"),
            F.sum(F.col("matched").cast("long")).alias("matched_queries"),
        )

    days = [r.asDict() for r in rate_rows(q, ["day"]).orderBy("day").collect()]
    total = rate_rows(q.withColumn("all", F.lit("all")), ["all"]).collect()
    total = total[0].asDict() if total else {"clients": 0, "infected": 0, "queries": 0, "matched_queries": 0}
    total.pop("all", None)
    for r in days + [total]:
        r["rate"] = (r["infected"] / r["clients"]) if r["clients"] else 0.0
        r["matched_queries"] = int(r["matched_queries"] or 0)

    inf = (
        q.where("matched")
        .groupBy("client_key")
        .agg(
            F.min(F.unix_micros("ts")).alias("first_us"),
            F.max(F.unix_micros("ts")).alias("last_us"),
            F.array_sort(F.collect_set("qname")).alias("names"),
            F.count(F.lit(1)).alias("count"),
        )
        .collect()
    )
    infected = sorted(
        ({"client": r["client_key"], "first_us": r["first_us"], "last_us": r["last_us"],
          "names": list(r["names"]), "count": r["count"]} for r in inf),
        key=lambda r: r["client"],
    )
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "rate.json"), "w") as f:
        json.dump({"days": days, "total": total, "infected": infected}, f, indent=1)
        f.write("\n")
    print("days=%d clients=%d infected=%d rate=%.6f" % (len(days), total["clients"], total["infected"], total["rate"]))
    spark.stop()


if __name__ == "__main__":
    main()
