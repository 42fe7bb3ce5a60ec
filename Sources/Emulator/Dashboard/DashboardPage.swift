/// The run dashboard the emulator serves at `/`: one self-contained page (no CDN, no
/// external files) that reads the admin API and Port's API of the same emulator.
///
/// - Runs: a table that refreshes every 500 ms (status colour, action, entity, user, label,
///   start, duration, logs, links), and the Kafka requests Port's ACLs refused, if any.
/// - A run: its log timeline, links, the entities it touched (before and after), the exact
///   Kafka message published (or its claims and ack, when delivered by HTTP polling), and its API journal with refused requests highlighted;
///   approve or decline a run that waits.
/// - Automations: each automation (its event, condition, on or off) with what it fired,
///   skipped as a loop, or could not evaluate, and the runs it created.
/// - Catalog: the blueprints with their entity counts, one blueprint's entities (relations
///   with the related entity's title), and Port's entity search over a `{combinator, rules}`
///   query (see `catalogScript`).
/// - Trigger: a form built from each action's `userInputs` (types, enums, required), sent
///   to `POST /v1/actions/{id}/runs` with the tester's credentials.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>port-emulator</title>
        <style>
        :root { --fg:#1d2330; --muted:#6b7386; --line:#e3e6ee; --bg:#f6f7fb; --card:#fff; --accent:#3b5bdb; }
        * { box-sizing: border-box; }
        body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
        header { display:flex; align-items:center; gap:24px; padding:12px 24px; background:#111827; color:#fff; }
        header h1 { font-size:16px; margin:0; font-weight:600; }
        header nav a { color:#cbd5e1; text-decoration:none; margin-right:16px; }
        header nav a.active { color:#fff; font-weight:600; }
        header .org { margin-left:auto; color:#94a3b8; font-size:12px; }
        main { padding:20px 24px; max-width:1400px; }
        .card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px; margin-bottom:16px; }
        table { width:100%; border-collapse:collapse; }
        th, td { text-align:left; padding:7px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
        th { font-size:12px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.03em; }
        tr.run { cursor:pointer; } tr.run:hover { background:#f0f3ff; }
        .status { display:inline-block; padding:2px 8px; border-radius:10px; font-size:12px; font-weight:600; white-space:nowrap; }
        .s-IN_PROGRESS { background:#dbe4ff; color:#364fc7; }
        .s-SUCCESS { background:#d3f9d8; color:#2b8a3e; }
        .s-FAILURE { background:#ffe3e3; color:#c92a2a; }
        .s-WAITING_FOR_APPROVAL { background:#fff3bf; color:#e67700; }
        .s-DECLINED { background:#e9ecef; color:#495057; }
        .muted { color:var(--muted); }
        pre { background:#0f172a; color:#e2e8f0; padding:12px; border-radius:6px; overflow:auto; font-size:12px; margin:0; max-height:480px; }
        .grid { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
        .timeline { list-style:none; margin:0; padding:0; }
        .timeline li { padding:6px 0 6px 14px; border-left:2px solid var(--line); position:relative; white-space:pre-wrap; }
        .timeline li::before { content:""; position:absolute; left:-5px; top:12px; width:8px; height:8px; border-radius:50%; background:var(--accent); }
        .timeline time { color:var(--muted); font-size:12px; margin-right:8px; }
        tr.violation td { background:#fff5f5; }
        tr.injected td { background:#fff9db; }
        .rule { color:#c92a2a; font-size:12px; }
        form label { display:block; margin:10px 0 4px; font-weight:600; }
        form .hint { font-weight:400; color:var(--muted); font-size:12px; }
        input, select, textarea { font:inherit; padding:6px 8px; border:1px solid #c7ccd8; border-radius:6px; width:100%; max-width:420px; }
        input[type=checkbox] { width:auto; }
        button { font:inherit; padding:7px 16px; border-radius:6px; border:0; background:var(--accent); color:#fff; cursor:pointer; }
        button.secondary { background:#868e96; }
        .error { color:#c92a2a; white-space:pre-wrap; margin-top:10px; }
        .kv { display:grid; grid-template-columns:140px 1fr; gap:4px 12px; }
        .kv div:nth-child(odd) { color:var(--muted); }
        a { color:var(--accent); }
        \#(catalogStyle)
        </style>
        </head>
        <body>
        <header>
          <h1>port-emulator</h1>
          <nav><a href="#/runs" id="nav-runs">Runs</a><a href="#/automations" id="nav-automations">Automations</a><a href="#/catalog" id="nav-catalog">Catalog</a><a href="#/trigger" id="nav-trigger">Trigger action</a></nav>
          <span class="org" id="org"></span>
        </header>
        <main id="main"></main>
        <script>
        "use strict";
        const TESTER = { clientId: "port-emulator-tester", clientSecret: "port-emulator-tester-secret" };
        let token = null, timer = null, renderedView = null;

        function el(tag, attrs, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attrs || {})) {
            if (key === "class") node.className = value;
            else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
            else if (value !== undefined && value !== null) node.setAttribute(key, value);
          }
          for (const child of children.flat()) {
            if (child === null || child === undefined) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }
        function status(value) { return el("span", { class: "status s-" + value, "data-status": value }, value); }
        function when(text) { return text ? new Date(text).toLocaleTimeString() : ""; }
        function duration(run) {
          const end = run.endedAt ? new Date(run.endedAt) : new Date();
          const ms = end - new Date(run.createdAt);
          return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s";
        }
        function pretty(value) { return JSON.stringify(value, null, 2); }
        async function admin(path, options) {
          const response = await fetch("/_emulator" + path, options);
          return response.json();
        }
        async function api(method, path, body) {
          for (let attempt = 0; attempt < 2; attempt++) {
            if (!token) {
              const grant = await fetch("/v1/auth/access_token", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(TESTER) });
              token = (await grant.json()).accessToken;
            }
            const response = await fetch("/v1" + path, {
              method, headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token, "X-Port-Emulator-Tester": "true" },
              body: body === undefined ? undefined : JSON.stringify(body),
            });
            if (response.status === 401 && attempt === 0) { token = null; continue; }
            return { status: response.status, json: await response.json() };
          }
        }

        // Views re-render only when their data changed, so that a click is never lost on an
        // element replaced under the pointer; durations of running runs tick in place.
        let lastSignature = null;
        function unchanged(signature) {
          if (signature === lastSignature) return true;
          lastSignature = signature;
          return false;
        }
        function tickDurations(runs) {
          for (const run of runs) {
            const cell = document.querySelector("tr.run[data-run='" + run.id + "'] td.duration");
            if (cell) cell.textContent = duration(run);
          }
        }

        async function showRuns(main) {
          const [{ runs, evicted, capacity }, { violations }] = await Promise.all([admin("/runs"), admin("/violations")]);
          const kafka = violations.filter(v => v.method === "KAFKA");
          if (unchanged("runs " + JSON.stringify(runs.map(run => [run.id, run.version, run.status])) + " " + kafka.length + " " + evicted)) { tickDurations(runs); return; }
          const rows = runs.slice().reverse().map(run => el("tr", { class: "run", "data-run": run.id, onclick: () => { location.hash = "#/runs/" + run.id; } },
            el("td", {}, status(run.status)),
            el("td", {}, run.action.title || run.action.identifier, el("div", { class: "muted" }, run.id + (run.source === "AUTOMATION" ? " · automation" : ""))),
            el("td", {}, run.entity ? (run.entity.title || run.entity.identifier) : el("span", { class: "muted" }, "—")),
            el("td", {}, run.createdBy),
            el("td", {}, run.statusLabel || ""),
            el("td", {}, when(run.createdAt)),
            el("td", { class: "duration" }, duration(run)),
            el("td", {}, String(run.logs.length)),
            el("td", {}, run.link.map(link => el("div", {}, el("a", { href: link, target: "_blank", rel: "noopener" }, link))))));
          main.replaceChildren(el("div", { class: "card" },
            el("table", { id: "runs" },
              el("thead", {}, el("tr", {}, ["Status", "Action", "Entity", "User", "Label", "Started", "Duration", "Logs", "Links"].map(h => el("th", {}, h)))),
              el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 9, class: "muted" }, "No runs yet: trigger an action.")))),
            evicted ? el("p", { class: "muted", id: "runs-evicted" }, evicted + " older finished runs were evicted (--max-finished-runs " + capacity + ").") : "",
          ), ...(kafka.length ? [el("div", { class: "card", id: "kafka-refusals" },
            el("h3", { style: "margin-top:0" }, "Kafka requests refused by Port's ACLs"),
            el("table", {},
              el("thead", {}, el("tr", {}, ["Time", "Kafka user", "Request", "Error", "Why"].map(h => el("th", {}, h)))),
              el("tbody", {}, kafka.slice().reverse().map(v => el("tr", { class: "violation" },
                el("td", {}, when(v.time)), el("td", {}, v.clientId || ""), el("td", {}, v.path),
                el("td", {}, v.status + " " + v.error), el("td", {}, el("span", { class: "rule" }, v.message + " (" + v.rule + ")")))))))] : []));
        }

        async function showRun(main, id) {
          const [{ run, message }, { journal, evicted, capacity }, { violations }] = await Promise.all([
            admin("/runs/" + encodeURIComponent(id)), admin("/journal?run=" + encodeURIComponent(id)), admin("/violations?run=" + encodeURIComponent(id))]);
          if (!run) { main.replaceChildren(el("div", { class: "card error" }, message || "No such run")); return; }
          if (unchanged("run " + JSON.stringify([run.id, run.version, run.status, !!run.kafka, JSON.stringify(run.polling || null), journal.length, violations.length]))) return;
          const refused = new Map(violations.map(v => [v.time + " " + v.method + " " + v.path, v]));
          const decide = decision => async () => { await api("PATCH", "/actions/runs/" + id + "/approval", { status: decision, description: "from the dashboard" }); refresh(); };
          main.replaceChildren(
            el("div", { class: "card" },
              el("h2", { style: "margin-top:0" }, run.action.title || run.action.identifier, " ", status(run.status)),
              el("div", { class: "kv", id: "run-summary" },
                el("div", {}, "Run"), el("div", {}, run.id),
                el("div", {}, "Entity"), el("div", {}, run.entity ? run.entity.identifier : "—"),
                el("div", {}, "User"), el("div", {}, run.createdBy),
                el("div", {}, "Label"), el("div", {}, run.statusLabel || "—"),
                el("div", {}, "Summary"), el("div", {}, run.summary || "—"),
                el("div", {}, "Started"), el("div", {}, new Date(run.createdAt).toLocaleString()),
                el("div", {}, "Duration"), el("div", {}, duration(run)),
                el("div", {}, "Links"), el("div", {}, run.link.length ? run.link.map(link => el("div", {}, el("a", { href: link, target: "_blank", rel: "noopener" }, link))) : "—")),
              run.status === "WAITING_FOR_APPROVAL" ? el("p", {}, el("button", { id: "approve", onclick: decide("APPROVE") }, "Approve"), " ", el("button", { class: "secondary", onclick: decide("DECLINE") }, "Decline")) : null),
            el("div", { class: "grid" },
              el("div", { class: "card" }, el("h3", { style: "margin-top:0" }, "Logs"),
                run.logs.length ? el("ul", { class: "timeline", id: "logs" }, run.logs.map(log => el("li", {}, el("time", {}, when(log.createdAt)), log.message)))
                  : el("p", { class: "muted" }, "No logs yet.")),
              run.polling ? el("div", { class: "card", id: "polling" }, el("h3", { style: "margin-top:0" }, "Delivered by HTTP polling"),
                el("ul", { class: "timeline" }, run.polling.claims.map(claim => el("li", {}, el("time", {}, when(claim.at)),
                  "claimed by " + claim.clientId + " (installation " + claim.installationId + ") until " + when(claim.claimedUntil))),
                  run.polling.ackedAt ? el("li", {}, el("time", {}, when(run.polling.ackedAt)), "acked by " + run.polling.ackedBy) : null),
                run.polling.claims.length ? null : el("p", { class: "muted" }, "Waiting for claim-pending."))
              : el("div", { class: "card" }, el("h3", { style: "margin-top:0" }, "Kafka message"),
                run.kafka ? [el("p", { class: "muted" }, run.kafka.topic + " partition " + run.kafka.partition + " offset " + run.kafka.offset), el("pre", { id: "kafka-message" }, pretty(run.kafka.message))]
                  : el("p", { class: "muted" }, run.status === "WAITING_FOR_APPROVAL" ? "Published once approved." : "Not published (yet)."))),
            run.automationEvent ? el("div", { class: "card", id: "fired-by" }, el("h3", { style: "margin-top:0" }, "Fired by"),
              el("p", { class: "muted" }, "Automation " + run.action.identifier + ", on " + (run.automationEvent.resourceType || "") + " " + (run.automationEvent.action || "")),
              el("pre", {}, pretty(run.automationEvent))) : null,
            el("div", { class: "card" }, el("h3", { style: "margin-top:0" }, "Entities"),
              run.affectedEntities.length ? el("table", {},
                el("thead", {}, el("tr", {}, ["Change", "Entity", "Before", "After"].map(h => el("th", {}, h)))),
                el("tbody", {}, run.affectedEntities.map(change => el("tr", {},
                  el("td", {}, change.operation), el("td", {}, change.blueprint + "/" + change.identifier),
                  el("td", {}, change.before ? el("pre", {}, pretty(change.before.properties)) : "—"),
                  el("td", {}, change.after ? el("pre", {}, pretty(change.after.properties)) : "—")))))
                : el("p", { class: "muted" }, "No entity was changed with this run's run_id.")),
            el("div", { class: "card" }, el("h3", { style: "margin-top:0" }, "API journal"),
              evicted ? el("p", { class: "muted", id: "journal-evicted" }, evicted + " older calls (of every run) were evicted from the journal (--max-journal-entries " + capacity + "): this run's earliest calls may be missing.") : "",
              el("table", { id: "journal" },
                el("thead", {}, el("tr", {}, ["Time", "Client", "Request", "Status", ""].map(h => el("th", {}, h)))),
                el("tbody", {}, journal.map(entry => {
                  const violation = refused.get(entry.time + " " + entry.method + " " + entry.path)
                    || (entry.status >= 400 && !entry.injected ? violations.find(v => v.method === entry.method && v.path === entry.path) : null);
                  return el("tr", { class: violation ? "violation" : (entry.injected ? "injected" : "") },
                    el("td", {}, when(entry.time)), el("td", {}, entry.clientId || "—"),
                    el("td", {}, entry.method + " " + entry.path), el("td", {}, String(entry.status)),
                    el("td", {}, violation ? el("span", { class: "rule" }, violation.error + " (" + violation.rule + "): " + violation.message)
                      : entry.injected ? el("span", { class: "muted" }, "injected: " + entry.injected) : ""));
                })))));
        }

        function describeEvent(event) {
          return event.type + " on " + (event.blueprintIdentifier ? event.blueprintIdentifier + (event.propertyIdentifier ? "." + event.propertyIdentifier : "") : event.actionIdentifier);
        }
        async function showAutomations(main) {
          const { automations } = await admin("/automations");
          if (unchanged("automations " + JSON.stringify(automations.map(a => [a.identifier, a.firings.length])))) return;
          const rows = automations.map(automation => el("tr", { "data-automation": automation.identifier },
            el("td", {}, automation.title || automation.identifier, el("div", { class: "muted" }, automation.identifier)),
            el("td", {}, describeEvent(automation.trigger.event)),
            el("td", {}, automation.trigger.condition ? el("code", {}, automation.trigger.condition.expressions.join(" " + (automation.trigger.condition.combinator || "and") + " ")) : el("span", { class: "muted" }, "always")),
            el("td", {}, automation.publish === false ? "off" : "on"),
            el("td", {}, String(automation.firings.filter(f => f.outcome === "fired").length))));
          const firings = automations.flatMap(a => a.firings).sort((x, y) => x.time < y.time ? 1 : -1);
          main.replaceChildren(
            el("div", { class: "card" }, el("h3", { style: "margin-top:0" }, "Automations"),
              el("table", { id: "automations" },
                el("thead", {}, el("tr", {}, ["Automation", "Event", "Condition", "Publish", "Runs"].map(h => el("th", {}, h)))),
                el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No automations are defined (trigger.type \"automation\").")))) ),
            el("div", { class: "card" }, el("h3", { style: "margin-top:0" }, "What they did"),
              el("table", { id: "firings" },
                el("thead", {}, el("tr", {}, ["Time", "Automation", "Event", "Outcome", "Run"].map(h => el("th", {}, h)))),
                el("tbody", {}, firings.length ? firings.map(f => el("tr", { class: f.outcome === "fired" ? "" : "injected" },
                  el("td", {}, when(f.time)), el("td", {}, f.automation), el("td", {}, f.eventType),
                  el("td", {}, f.outcome + (f.detail ? ": " + f.detail : "")),
                  el("td", {}, f.runId ? el("a", { href: "#/runs/" + f.runId, class: "firing-run" }, f.runId) : "—")))
                  : el("tr", {}, el("td", { colspan: 5, class: "muted" }, "Nothing fired yet."))))));
        }

        let actionsCache = null;
        async function showTrigger(main) {
          if (renderedView === "trigger") return;
          renderedView = "trigger";
          const answer = await api("GET", "/actions");
          actionsCache = (answer.json.actions || []).filter(action => action.trigger && action.trigger.type === "self-service");
          const select = el("select", { id: "action", name: "action" }, actionsCache.map(action => el("option", { value: action.identifier }, action.title || action.identifier)));
          const fields = el("div", { id: "fields" });
          const error = el("div", { class: "error", id: "trigger-error" });
          const form = el("form", { id: "trigger-form", onsubmit: async event => {
            event.preventDefault();
            error.textContent = "";
            const action = actionsCache.find(a => a.identifier === select.value);
            const body = { properties: {} };
            try {
              for (const input of fields.querySelectorAll("[data-input]")) {
                const name = input.dataset.input, type = input.dataset.type;
                if (type === "boolean") { body.properties[name] = input.checked; continue; }
                if (input.value === "") continue;
                if (type === "number") body.properties[name] = Number(input.value);
                else if (type === "array" || type === "object") body.properties[name] = JSON.parse(input.value);
                else if (input.dataset.enumJson) body.properties[name] = JSON.parse(input.value);
                else body.properties[name] = input.value;
              }
            } catch (problem) { error.textContent = "An input is not valid JSON: " + problem.message; return; }
            const entity = fields.querySelector("#entity");
            if (entity && entity.value) body.entity = entity.value;
            const runAs = form.querySelector("#run-as").value;
            const result = await api("POST", "/actions/" + encodeURIComponent(action.identifier) + "/runs" + (runAs ? "?run_as=" + encodeURIComponent(runAs) : ""), body);
            if (result.status >= 300) { error.textContent = result.status + " " + (result.json.error || "") + ": " + (result.json.message || ""); return; }
            location.hash = "#/runs/" + result.json.run.id;
          } },
            el("label", { for: "action" }, "Action"), select, fields,
            el("label", { for: "run-as" }, "Run as ", el("span", { class: "hint" }, "(optional user email)")), el("input", { id: "run-as", type: "email", placeholder: "emulator-user@example.com" }),
            el("p", {}, el("button", { type: "submit", id: "submit" }, "Trigger")), error);
          async function buildFields() {
            const action = actionsCache.find(a => a.identifier === select.value);
            const inputs = (action.trigger.userInputs || {}).properties || {};
            const required = new Set((action.trigger.userInputs || {}).required || []);
            const parts = [];
            if (action.trigger.operation === "DAY-2" || action.trigger.operation === "DELETE") {
              const blueprint = action.trigger.blueprintIdentifier;
              const entities = await api("GET", "/blueprints/" + encodeURIComponent(blueprint) + "/entities");
              parts.push(el("label", { for: "entity" }, "Entity ", el("span", { class: "hint" }, "(" + blueprint + ", required)")),
                el("select", { id: "entity" }, (entities.json.entities || []).map(entity => el("option", { value: entity.identifier }, entity.title || entity.identifier))));
            }
            for (const [name, schema] of Object.entries(inputs)) {
              const id = "input-" + name, type = schema.type || "string";
              const label = el("label", { for: id }, schema.title || name, required.has(name) ? " *" : "", " ", el("span", { class: "hint" }, "(" + type + (schema.default !== undefined ? ", default " + JSON.stringify(schema.default) : "") + ")"));
              let input;
              if (schema.enum) {
                input = el("select", { id, "data-input": name, "data-type": type, "data-enum-json": "1" },
                  required.has(name) ? null : el("option", { value: "" }, "—"),
                  schema.enum.map(value => el("option", { value: JSON.stringify(value) }, String(value))));
                if (schema.default !== undefined) input.value = JSON.stringify(schema.default);
              } else if (type === "boolean") {
                input = el("input", { id, type: "checkbox", "data-input": name, "data-type": type });
                input.checked = schema.default === true;
              } else if (type === "array" || type === "object") {
                input = el("textarea", { id, rows: 3, "data-input": name, "data-type": type, placeholder: type === "array" ? "[ ]" : "{ }" });
              } else {
                input = el("input", { id, type: type === "number" ? "number" : "text", step: "any", "data-input": name, "data-type": type, placeholder: schema.default !== undefined ? String(schema.default) : "" });
                if (required.has(name)) input.required = true;
              }
              parts.push(label, input);
            }
            fields.replaceChildren(...parts);
          }
          select.addEventListener("change", buildFields);
          main.replaceChildren(el("div", { class: "card" }, el("h2", { style: "margin-top:0" }, "Trigger action"), form));
          if (actionsCache.length) await buildFields(); else error.textContent = "No self-service actions are loaded (see --fixtures).";
        }

        \#(catalogScript)

        async function refresh() {
          const main = document.getElementById("main");
          const route = location.hash.replace(/^#/, "") || "/runs";
          document.getElementById("nav-runs").className = route.startsWith("/runs") ? "active" : "";
          document.getElementById("nav-trigger").className = route === "/trigger" ? "active" : "";
          document.getElementById("nav-automations").className = route === "/automations" ? "active" : "";
          document.getElementById("nav-catalog").className = route === "/catalog" || route.startsWith("/catalog/") ? "active" : "";
          try {
            if (route === "/trigger") { await showTrigger(main); return; }
            if (route === "/catalog" || route.startsWith("/catalog/")) { await showCatalog(main, decodeURIComponent(route.slice(9))); return; }
            renderedView = route;
            if (route.startsWith("/runs/")) await showRun(main, decodeURIComponent(route.slice(6)));
            else if (route === "/automations") await showAutomations(main);
            else await showRuns(main);
          } catch (problem) {
            main.replaceChildren(el("div", { class: "card error" }, "Cannot reach the emulator: " + problem.message));
          }
        }
        window.addEventListener("hashchange", () => { renderedView = null; lastSignature = null; refresh(); });
        admin("/info").then(info => { document.getElementById("org").textContent = info.orgID + " · Kafka " + info.kafkaBootstrapServers; });
        refresh();
        // The trigger form and the catalog (which reads Port's API) render on navigation only.
        timer = setInterval(() => { if (location.hash !== "#/trigger" && !location.hash.startsWith("#/catalog")) refresh(); }, 500);
        </script>
        </body>
        </html>
        """#
}
