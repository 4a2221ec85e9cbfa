#!/usr/bin/env python3
"""Writes the provisioned dashboards (dashboards/*.json) from the definitions below.

The JSON files are what Grafana loads and what the tests check; this script only keeps the eight
dashboards consistent (one datasource variable, one annotation query, one set of links). Edit here,
run `python3 dashboards/generate.py`, commit both.
"""
import json
import os

DS_TYPE = "mdm-audit-datasource"
DS = {"type": DS_TYPE, "uid": "${datasource}"}
HERE = os.path.dirname(os.path.abspath(__file__))

ACTOR_SQL = "coalesce(actor_upn, actor_name, actor_id)"
HIGH = ["high", "critical"]


def target(ref, query_type, **kw):
    t = {"refId": ref, "datasource": DS, "queryType": query_type}
    t.update(kw)
    return t


def sql(ref, text, limit=1000):
    return target(ref, "sql", sql=" ".join(text.split()), limit=limit)


class Layout:
    def __init__(self):
        self.y = 0
        self.x = 0
        self.row_h = 0
        self.next_id = 1

    def place(self, w, h):
        if self.x + w > 24:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def newline(self):
        if self.x:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0


def link_device(field="device_id"):
    return {
        "title": "Device lifecycle of ${__value.raw}",
        "url": "/d/mdm-audit-device?${__url_time_range}&var-device=${__value.raw:percentencode}",
    }


def link_actor():
    return {
        "title": "Admin activity of ${__value.raw}",
        "url": "/d/mdm-audit-admin?${__url_time_range}&var-actor=${__value.raw:percentencode}",
    }


def link_change():
    return {
        "title": "Change review of ${__value.raw}",
        "url": "/d/mdm-audit-change?${__url_time_range}&var-target=${__value.raw:percentencode}",
    }


def link_incident():
    return {
        "title": "Incident timeline of ${__value.raw}",
        "url": "/d/mdm-audit-incident?${__url_time_range}&var-episode=${__value.raw:percentencode}",
    }


LINKS_BY_FIELD = {
    "device_id": link_device,
    "device_name": link_device,
    "actor": link_actor,
    "actor_upn": link_actor,
    "target_id": link_change,
    "episode_id": link_incident,
}


def overrides_for(fields):
    out = []
    for f in fields:
        if f in LINKS_BY_FIELD:
            out.append(
                {
                    "matcher": {"id": "byName", "options": f},
                    "properties": [{"id": "links", "value": [LINKS_BY_FIELD[f]()]}],
                }
            )
    return out


class Dash:
    def __init__(self, uid, title, description, time_from="now-7d", variables=(), tags=()):
        self.uid = uid
        self.title = title
        self.description = description
        self.time_from = time_from
        self.variables = list(variables)
        self.tags = ["mdm-audit", *tags]
        self.panels = []
        self.layout = Layout()

    def panel(self, ptype, title, targets, w=12, h=8, description="", field_config=None, options=None):
        p = {
            "id": self.layout.next_id,
            "type": ptype,
            "title": title,
            "description": description,
            "gridPos": self.layout.place(w, h),
            "datasource": DS,
            "targets": targets,
            "fieldConfig": field_config or {"defaults": {}, "overrides": []},
            "options": options or {},
        }
        self.layout.next_id += 1
        self.panels.append(p)
        return p

    def text(self, title, content, w=24, h=3):
        p = {
            "id": self.layout.next_id,
            "type": "text",
            "title": title,
            "gridPos": self.layout.place(w, h),
            "options": {"mode": "markdown", "content": content},
        }
        self.layout.next_id += 1
        self.panels.append(p)

    def timeseries(self, title, targets, w=12, h=8, unit="short", description="", stack=False):
        custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
        if stack:
            custom.update({"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal", "group": "A"}})
        return self.panel(
            "timeseries",
            title,
            targets,
            w,
            h,
            description,
            {"defaults": {"unit": unit, "custom": custom}, "overrides": []},
            {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
             "tooltip": {"mode": "multi", "sort": "desc"}},
        )

    def table(self, title, targets, w=12, h=8, link_fields=(), description=""):
        return self.panel(
            "table",
            title,
            targets,
            w,
            h,
            description,
            {"defaults": {"custom": {"cellOptions": {"type": "auto"}, "filterable": True}},
             "overrides": overrides_for(link_fields)},
            {"showHeader": True, "cellHeight": "sm"},
        )

    def narrative(self, title, targets, w=12, h=12, description=""):
        """A narrative frame in a Table panel whose text cells render Markdown (Grafana >= 12.2)."""
        return self.panel(
            "table",
            title,
            targets,
            w,
            h,
            description or "Written from the events in range; every sentence cites the events it rests on ([1], [2], ...).",
            {"defaults": {"custom": {"cellOptions": {"type": "markdown"}, "inspect": True}}, "overrides": []},
            {"showHeader": False, "cellHeight": "lg"},
        )

    def stat(self, title, targets, w=6, h=4, unit="short", description="", red_above=None):
        steps = [{"color": "green", "value": None}]
        if red_above is not None:
            steps.append({"color": "red", "value": red_above})
        return self.panel(
            "stat",
            title,
            targets,
            w,
            h,
            description,
            {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}, "overrides": []},
            {"reduceOptions": {"calcs": ["sum"], "fields": "", "values": False}, "colorMode": "background",
             "graphMode": "area", "textMode": "auto"},
        )

    def to_json(self):
        templating = [
            {
                "name": "datasource",
                "label": "Datasource",
                "type": "datasource",
                "query": DS_TYPE,
                "current": {},
                "hide": 0,
                "refresh": 1,
                "regex": "",
                "options": [],
            }
        ] + self.variables
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "schemaVersion": 41,
            "version": 1,
            "editable": False,
            "graphTooltip": 1,
            "timezone": "utc",
            "refresh": "",
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "fiscalYearStartMonth": 0,
            "liveNow": False,
            "weekStart": "",
            "annotations": {
                "list": [
                    {
                        "builtIn": 1,
                        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                        "enable": True,
                        "hide": True,
                        "iconColor": "rgba(0, 211, 255, 1)",
                        "name": "Annotations & Alerts",
                        "type": "dashboard",
                    },
                    {
                        "datasource": DS,
                        "enable": True,
                        "hide": False,
                        "iconColor": "red",
                        "name": "High-risk events",
                        "target": target("Anno", "annotations", filters={"riskLevels": HIGH}, limit=500),
                    },
                ]
            },
            "links": [
                {
                    "title": "MDM Audit",
                    "type": "dashboards",
                    "tags": ["mdm-audit"],
                    "asDropdown": True,
                    "includeVars": True,
                    "keepTime": True,
                    "targetBlank": False,
                    "icon": "external link",
                    "tooltip": "",
                    "url": "",
                }
            ],
            "templating": {"list": templating},
            "panels": self.panels,
        }


def query_var(name, label, field, multi=False):
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": field,
        "definition": field,
        "refresh": 2,
        "multi": multi,
        "includeAll": multi,
        "allValue": "",
        "current": {},
        "options": [],
        "sort": 0,
        "regex": "",
        "hide": 0,
    }


def textbox(name, label, description=""):
    return {
        "name": name,
        "label": label,
        "type": "textbox",
        "query": "",
        "current": {"text": "", "value": ""},
        "options": [],
        "description": description,
        "hide": 0,
    }


def overview():
    d = Dash(
        "mdm-audit-overview",
        "MDM Audit: Overview",
        "Risk across every MDM console: what happened, who did it, and whether every feed is arriving.",
        variables=[query_var("vendor", "Vendor", "vendors", multi=True)],
    )
    v = {"vendors": ["$vendor"]}
    d.stat("Events", [target("A", "stats", filters=v, stats={"metric": "count", "groupBy": "none"})])
    d.stat("High and critical events", [target("A", "stats", filters={**v, "riskLevels": HIGH},
                                               stats={"metric": "count", "groupBy": "none"})], red_above=1)
    d.stat("Devices touched", [target("A", "stats", filters=v, stats={"metric": "distinct_devices", "groupBy": "none"})],
           description="Distinct devices per bucket, summed over the range.")
    d.stat("Highest risk score", [target("A", "stats", filters=v, stats={"metric": "risk_score_max", "groupBy": "none"})],
           red_above=70)
    d.layout.newline()
    d.timeseries("Risk over time (events by risk level)", [
        target("A", "stats", filters=v, stats={"metric": "count", "groupBy": "risk_level"}, limit=5)], w=12, stack=True,
        description="Red markers: high and critical events (annotation query).")
    d.timeseries("Highest risk score", [
        target("A", "stats", filters=v, stats={"metric": "risk_score_max", "groupBy": "none"})], w=12)
    d.layout.newline()
    d.table("High-risk actions", [target("A", "timeline", filters={**v, "riskLevels": HIGH}, limit=200)],
            w=14, h=12, link_fields=("device_id", "device_name", "actor", "actor_upn", "target_id", "episode_id"))
    d.narrative("What happened (period summary)", [
        target("A", "narrative", filters=v, narrative={"kind": "period_summary"})], w=10, h=12)
    d.layout.newline()
    d.table("Top actors", [sql("A", f"""
        SELECT {ACTOR_SQL} AS actor, count(*) AS events,
               sum(CASE WHEN risk_level IN ('high', 'critical') THEN 1 ELSE 0 END) AS high_risk,
               max(risk_score) AS max_risk_score, count(DISTINCT device_id) AS devices
        FROM events WHERE vendor IN ($vendor)
        GROUP BY {ACTOR_SQL} ORDER BY high_risk DESC, events DESC LIMIT 20""")],
            w=12, h=10, link_fields=("actor",))
    d.timeseries("Risk tags", [target("A", "stats", filters=v, stats={"metric": "count", "groupBy": "risk_tag"}, limit=10)],
                 w=12, h=10, stack=True)
    d.layout.newline()
    d.table("Coverage by vendor and feed", [sql("A", """
        SELECT vendor, product, feed, count(*) AS events, min(time) AS first_event, max(time) AS newest_event,
               count(DISTINCT device_id) AS devices, count(DISTINCT coalesce(actor_upn, actor_name, actor_id)) AS actors
        FROM events WHERE vendor IN ($vendor)
        GROUP BY vendor, product, feed ORDER BY vendor, product, feed""")], w=24, h=8,
            description="Every configured feed should appear here; a feed missing or with an old newest event is not arriving (see Ingest health).")
    return d


def admin():
    d = Dash(
        "mdm-audit-admin",
        "MDM Audit: Admin activity",
        "Everything one administrator (or API client) did, as events and as a cited narrative.",
        variables=[query_var("actor", "Actor", "actors")],
    )
    f = {"actors": ["$actor"]}
    who = "(actor_upn = '$actor' OR actor_name = '$actor' OR actor_id = '$actor')"
    d.narrative("Admin activity of $actor", [
        target("A", "narrative", filters=f, narrative={"kind": "admin_activity", "subject": "$actor"})], w=10, h=14)
    d.table("Timeline of $actor", [target("A", "timeline", filters=f, limit=500)], w=14, h=14,
            link_fields=("device_id", "device_name", "target_id", "episode_id"))
    d.layout.newline()
    d.timeseries("Actions of $actor", [target("A", "stats", filters=f, stats={"metric": "count", "groupBy": "action"}, limit=10)],
                 stack=True)
    d.table("What $actor did", [sql("A", f"""
        SELECT category, action, outcome, count(*) AS events, max(risk_score) AS max_risk_score,
               count(DISTINCT device_id) AS devices, min(time) AS first, max(time) AS last
        FROM events WHERE {who}
        GROUP BY category, action, outcome ORDER BY max_risk_score DESC, events DESC""")])
    d.layout.newline()
    d.table("Devices $actor acted on", [sql("A", f"""
        SELECT device_id, device_name, device_serial, count(*) AS events, max(risk_score) AS max_risk_score,
               max(time) AS last
        FROM events WHERE {who} AND device_id IS NOT NULL
        GROUP BY device_id, device_name, device_serial ORDER BY max_risk_score DESC, events DESC LIMIT 100""")],
            link_fields=("device_id",))
    d.table("Episodes of $actor", [target("A", "episodes", filters=f, limit=100)], link_fields=("episode_id",))
    d.layout.newline()
    d.table("Sign-ins and sources of $actor", [sql("A", f"""
        SELECT actor_ip, actor_app, vendor, feed, count(*) AS events, min(time) AS first, max(time) AS last
        FROM events WHERE {who}
        GROUP BY actor_ip, actor_app, vendor, feed ORDER BY events DESC LIMIT 50""")], w=24)
    return d


def device():
    d = Dash(
        "mdm-audit-device",
        "MDM Audit: Device lifecycle",
        "One device from enrollment to retirement: who touched it, what changed, and what it means.",
        time_from="now-30d",
        variables=[query_var("device", "Device", "devices")],
    )
    f = {"devices": ["$device"]}
    which = "(device_id = '$device' OR device_serial = '$device' OR device_name = '$device')"
    d.table("Device facts", [sql("A", f"""
        SELECT device_id,
               last_value(device_serial ORDER BY time) FILTER (WHERE device_serial IS NOT NULL) AS device_serial,
               last_value(device_name ORDER BY time) FILTER (WHERE device_name IS NOT NULL) AS device_name,
               last_value(device_platform ORDER BY time) FILTER (WHERE device_platform IS NOT NULL) AS device_platform,
               last_value(device_os ORDER BY time) FILTER (WHERE device_os IS NOT NULL) AS device_os,
               last_value(device_user ORDER BY time) FILTER (WHERE device_user IS NOT NULL) AS device_user,
               last_value(asset_tag ORDER BY time) FILTER (WHERE asset_tag IS NOT NULL) AS asset_tag,
               last_value(device_department ORDER BY time) FILTER (WHERE device_department IS NOT NULL) AS device_department,
               min(time) AS first_seen, max(time) AS last_seen, count(*) AS events
        FROM events WHERE {which}
        GROUP BY device_id""")], w=24, h=5)
    d.narrative("Lifecycle of $device", [
        target("A", "narrative", filters=f, narrative={"kind": "device_lifecycle", "subject": "$device"})], w=10, h=14)
    d.table("Timeline of $device", [target("A", "timeline", filters=f, limit=500)], w=14, h=14,
            link_fields=("actor", "actor_upn", "target_id", "episode_id"))
    d.layout.newline()
    d.timeseries("Actions on $device", [target("A", "stats", filters=f, stats={"metric": "count", "groupBy": "action"}, limit=10)],
                 stack=True)
    d.table("Who acted on $device", [sql("A", f"""
        SELECT {ACTOR_SQL} AS actor, actor_kind, count(*) AS events, max(risk_score) AS max_risk_score,
               min(time) AS first, max(time) AS last
        FROM events WHERE {which}
        GROUP BY {ACTOR_SQL}, actor_kind ORDER BY max_risk_score DESC, events DESC""")], link_fields=("actor",))
    return d


def change():
    d = Dash(
        "mdm-audit-change",
        "MDM Audit: Change review",
        "Policy and profile changes: what changed, who changed it, what it weakened, and who approved it.",
        time_from="now-30d",
        variables=[textbox("target", "Policy or profile id", "target_id of a policy or profile; empty: every change")],
    )
    only = "category IN ('policy', 'profile') AND ('$target' = '' OR target_id = '$target')"
    d.narrative("Change review", [
        target("A", "narrative", narrative={"kind": "change_review", "subject": "$target"})], w=10, h=14)
    d.table("Policy and profile changes", [sql("A", f"""
        SELECT time, {ACTOR_SQL} AS actor, action, target_type, target_id, target_name, outcome, risk_level,
               array_to_string(risk_tags, ', ') AS risk_tags, array_length(changes) AS changed_settings, message
        FROM events WHERE {only} ORDER BY time DESC LIMIT 500""", limit=500)], w=14, h=14,
            link_fields=("actor", "target_id"))
    d.layout.newline()
    d.table("Changed settings (old -> new)", [sql("A", f"""
        SELECT time, target_id, target_name, {ACTOR_SQL} AS actor,
               get_field(c, 'path') AS setting, get_field(c, 'old') AS old_value, get_field(c, 'new') AS new_value,
               get_field(c, 'redacted') AS redacted
        FROM (SELECT time, target_id, target_name, actor_upn, actor_name, actor_id, unnest(changes) AS c
              FROM events WHERE {only})
        ORDER BY time DESC LIMIT 1000""")], w=14, h=10, link_fields=("target_id", "actor"),
            description="Redacted values are secrets the normalizer removed; only the fact of the change is kept.")
    d.table("Changes by target", [sql("A", f"""
        SELECT target_id, target_name, target_type, count(*) AS changes, count(DISTINCT {ACTOR_SQL}) AS actors,
               max(risk_score) AS max_risk_score, max(time) AS last_change
        FROM events WHERE {only}
        GROUP BY target_id, target_name, target_type ORDER BY max_risk_score DESC, changes DESC LIMIT 100""")],
            w=10, h=10, link_fields=("target_id",))
    d.layout.newline()
    d.timeseries("Weakening changes (passcode, encryption, scope, approval)", [
        target("A", "stats", filters={"riskTags": ["passcode_disabled", "encryption_disabled", "broad_scope",
                                                   "approval_bypass", "profile_removed"]},
               stats={"metric": "count", "groupBy": "risk_tag"}, limit=10)], w=24, stack=True)
    return d


def incident():
    d = Dash(
        "mdm-audit-incident",
        "MDM Audit: Incident timeline",
        "The last 72 hours of high-risk activity, correlated into episodes, in order, with a cited account.",
        time_from="now-72h",
        variables=[textbox("episode", "Episode id", "episode_id; empty: every high-risk episode in range")],
    )
    d.narrative("Incident timeline", [
        target("A", "narrative", narrative={"kind": "incident_timeline", "subject": "$episode"})], w=10, h=14)
    d.table("High-risk episodes", [target("A", "episodes", filters={"riskLevels": HIGH}, limit=100)], w=14, h=7,
            link_fields=("episode_id",))
    d.table("Medium and above, newest first", [target("A", "timeline", filters={"riskLevels": ["medium", *HIGH]}, limit=500)],
            w=14, h=7, link_fields=("device_id", "device_name", "actor", "actor_upn", "episode_id"))
    d.layout.newline()
    d.timeseries("High-risk events by tag", [
        target("A", "stats", filters={"riskLevels": HIGH}, stats={"metric": "count", "groupBy": "risk_tag"}, limit=10)],
        stack=True)
    d.timeseries("Devices affected", [
        target("A", "stats", filters={"riskLevels": HIGH}, stats={"metric": "distinct_devices", "groupBy": "none"})])
    d.layout.newline()
    d.table("Blast radius by actor", [sql("A", f"""
        SELECT {ACTOR_SQL} AS actor, count(*) AS high_risk_events, count(DISTINCT device_id) AS devices,
               min(time) AS first, max(time) AS last, max(risk_score) AS max_risk_score
        FROM events WHERE risk_level IN ('high', 'critical')
        GROUP BY {ACTOR_SQL} ORDER BY high_risk_events DESC LIMIT 50""")], w=24, link_fields=("actor",))
    return d


def evidence():
    d = Dash(
        "mdm-audit-evidence",
        "MDM Audit: Evidence set",
        "Exactly the events a narrative citation stands for: open it from a citation's link.",
        time_from="now-30d",
        variables=[textbox("events", "Event uids", "event_uid values, comma-separated (a citation's link fills it)")],
    )
    f = {"eventUids": ["$events"]}
    d.text("How to read this", "The rows below are the events one narrative citation rests on, found by "
           "`event_uid`. Each row carries its chain position and hash: `mdm-audit verify` proves the chain "
           "that holds them. An empty **Event uids** box shows every event in range.")
    d.table("Cited events, newest first", [target("A", "timeline", filters=f, limit=1000)], w=24, h=14,
            link_fields=("device_id", "device_name", "actor", "actor_upn", "target_id", "episode_id"))
    d.layout.newline()
    d.timeseries("Cited events by action", [
        target("A", "stats", filters=f, stats={"metric": "count", "groupBy": "action"}, limit=10)], stack=True)
    d.timeseries("Devices they touched", [
        target("A", "stats", filters=f, stats={"metric": "distinct_devices", "groupBy": "none"})])
    return d


SOC2_CONTROLS = [
    ("SOC2-CC6.1", "Logical access: who holds admin rights and how they got them",
     ["role_grant", "approval_bypass", "secret_read", "new_actor"]),
    ("SOC2-CC6.8", "Unauthorized or malicious software: scripts and apps pushed to devices",
     ["code_exec_push", "mdm_removed"]),
    ("SOC2-CC7.2", "Monitoring: anomalies and tampering with the audit trail",
     ["audit_tamper", "off_hours", "rare_action_for_actor", "bulk_destructive"]),
    ("SOC2-CC8.1", "Change management: policy and profile changes, and the ones that weaken devices",
     ["passcode_disabled", "encryption_disabled", "profile_removed", "broad_scope"]),
]


def soc2():
    d = Dash(
        "mdm-audit-soc2",
        "MDM Audit: SOC 2 evidence",
        "Evidence per SOC 2 control for the audit period: a cited narrative, the events behind it, and its review status.",
        time_from="now-90d",
    )
    d.text("How to use this dashboard", (
        "Set the time range to the audit period. Each control below has a narrative written from the events "
        "mapped to it (column `controls`), with citations to the events; the review table shows who reviewed "
        "which narrative and with what decision. Export a panel's data (Inspect > Data) as evidence."), h=3)
    d.table("Events per control", [sql("A", """
        SELECT control, count(*) AS events, sum(CASE WHEN risk_level IN ('high', 'critical') THEN 1 ELSE 0 END) AS high_risk,
               count(DISTINCT coalesce(actor_upn, actor_name, actor_id)) AS actors, count(DISTINCT device_id) AS devices,
               min(time) AS first, max(time) AS last
        FROM (SELECT unnest(controls) AS control, risk_level, actor_upn, actor_name, actor_id, device_id, time FROM events)
        WHERE control LIKE 'SOC2-%'
        GROUP BY control ORDER BY control""")], w=12, h=8)
    d.table("Narrative reviews", [sql("A", "SELECT * FROM reviews LIMIT 500", limit=500)], w=12, h=8,
            description="Human decisions on narratives (table `reviews`, written when a reviewer approves or rejects a narrative).")
    d.layout.newline()
    for control, title, tags in SOC2_CONTROLS:
        d.narrative(f"{control}: {title}", [
            target("A", "narrative", filters={"riskTags": tags}, narrative={"kind": "period_summary"})], w=12, h=10)
        d.table(f"{control} evidence", [sql("A", f"""
            SELECT time, coalesce(actor_upn, actor_name, actor_id) AS actor, action, target_name, device_name,
                   risk_level, array_to_string(risk_tags, ', ') AS risk_tags, message, event_uid
            FROM events WHERE array_has(controls, '{control}') ORDER BY time DESC LIMIT 500""", limit=500)],
                w=12, h=10, link_fields=("actor", "device_name"))
        d.layout.newline()
    d.table("Narratives written (provenance)", [sql("A", "SELECT * FROM narratives LIMIT 500", limit=500)], w=24, h=8,
            description="The narrative engine's own audit trail (table `narratives`): scope, evidence hash, model, verification.")
    return d


def ingest():
    d = Dash(
        "mdm-audit-ingest",
        "MDM Audit: Ingest health",
        "Is the trail complete and intact: feeds arriving, lag, records refused, and the hash chains.",
        time_from="now-24h",
    )
    d.stat("Events stored", [target("A", "stats", stats={"metric": "count", "groupBy": "none"})])
    d.stat("Dead letters", [sql("A", """
        SELECT count(*) AS dead_letters FROM dead_letters
        WHERE ingest_time >= to_timestamp_millis($__from) AND ingest_time <= to_timestamp_millis($__to)""")],
           red_above=1)
    d.stat("Audit tampering events", [target("A", "stats", filters={"riskTags": ["audit_tamper"]},
                                             stats={"metric": "count", "groupBy": "none"})], red_above=1)
    d.stat("Writers (hash chains)", [sql("A", "SELECT count(DISTINCT chain_id) AS writers FROM events")])
    d.layout.newline()
    d.timeseries("Events by feed", [target("A", "stats", stats={"metric": "count", "groupBy": "vendor"})], stack=True)
    d.timeseries("Ingest lag (seconds, per hour)", [sql("A", """
        SELECT date_bin(INTERVAL '1 hour', ingest_time) AS time, vendor,
               avg(to_unixtime(ingest_time) - to_unixtime(time)) AS lag_seconds
        FROM events GROUP BY date_bin(INTERVAL '1 hour', ingest_time), vendor ORDER BY 1""")], unit="s",
                 description="Time from the vendor's event time to storage. Long lag: a feed is buffered or polled rarely.")
    d.layout.newline()
    d.table("Lag and freshness by feed", [sql("A", """
        SELECT vendor, feed, count(*) AS events, max(time) AS newest_event, max(ingest_time) AS newest_ingest,
               avg(to_unixtime(ingest_time) - to_unixtime(time)) AS avg_lag_seconds,
               max(to_unixtime(ingest_time) - to_unixtime(time)) AS max_lag_seconds
        FROM events GROUP BY vendor, feed ORDER BY vendor, feed""")], w=12)
    d.table("Hash chains (one per writer)", [sql("A", """
        SELECT chain_id, count(*) AS rows_in_range, min(chain_seq) AS lowest_seq, max(chain_seq) AS highest_seq,
               max(ingest_time) AS last_commit
        FROM events GROUP BY chain_id ORDER BY chain_id""")], w=12,
            description="Rows per writer in range. Full verification recomputes every hash: `mdm-audit verify --store <store>` (exit 2 names the first broken link); the datasource's health check reports it.")
    d.layout.newline()
    d.table("Dead letters by reason", [sql("A", """
        SELECT source, reason, count(*) AS records, min(ingest_time) AS first, max(ingest_time) AS last
        FROM dead_letters
        WHERE ingest_time >= to_timestamp_millis($__from) AND ingest_time <= to_timestamp_millis($__to)
        GROUP BY source, reason ORDER BY records DESC LIMIT 100""")], w=12)
    d.table("Tampering evidence (dead letters naming tamper or chain, audit_tamper events)", [sql("A", """
        SELECT ingest_time AS time, source, reason, origin FROM dead_letters
        WHERE ingest_time >= to_timestamp_millis($__from) AND ingest_time <= to_timestamp_millis($__to)
          AND (lower(reason) LIKE '%tamper%' OR lower(reason) LIKE '%chain%' OR lower(reason) LIKE '%hash%')
        ORDER BY ingest_time DESC LIMIT 200""")], w=12)
    d.layout.newline()
    d.table("Newest dead letters", [sql("A", """
        SELECT ingest_time, source, reason, origin, octet_length(CAST(raw AS VARCHAR)) AS raw_bytes, dead_letter_uid
        FROM dead_letters
        WHERE ingest_time >= to_timestamp_millis($__from) AND ingest_time <= to_timestamp_millis($__to)
        ORDER BY ingest_time DESC LIMIT 200""", limit=200)], w=24,
            description="The raw bytes are kept in the store (column raw); re-ingest them once the cause is fixed.")
    return d


def main():
    for build in (overview, admin, device, change, incident, evidence, soc2, ingest):
        d = build()
        name = d.uid.removeprefix("mdm-audit-") + ".json"
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            json.dump(d.to_json(), f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
