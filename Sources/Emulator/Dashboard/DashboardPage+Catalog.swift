extension DashboardPage {
    /// The catalog section's styles, composed into the page's `<style>`.
    static let catalogStyle = #"""
        tr.blueprint { cursor:pointer; } tr.blueprint:hover { background:#f0f3ff; }
        tr.blueprint.selected td { background:#e7ecff; }
        .count { font-variant-numeric:tabular-nums; font-weight:600; }
        .props div, .relation { font-size:12px; }
        .props div { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; word-break:break-word; }
        .related { font-weight:600; }
        #search-query { max-width:none; font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12px; }
        .problem { background:#fff5f5; border:1px solid #ffc9c9; border-radius:6px; padding:8px 12px; color:#c92a2a; white-space:pre-wrap; margin-top:10px; }
        .problem:empty { display:none; }
        .toolbar { display:flex; align-items:center; gap:12px; }
        .toolbar h3 { margin:0; }
        """#

    /// The catalog section at `#/catalog` and `#/catalog/{blueprint}`: the blueprints with
    /// their entity counts, one blueprint's entities (relations with the related entity's
    /// title, from `attach_title_to_relation`), and Port's search (`POST /v1/entities/search`)
    /// over a `{combinator, rules}` query, showing the emulator's 422 message when a rule is
    /// malformed. It reads Port's API, whose calls the journal records, so it loads on
    /// navigation and on Reload rather than every 500 ms. Uses the page's `el` and `api`.
    static let catalogScript = #"""
        let catalogBlueprints = new Map(), catalogSearch = null;
        function relationTargets(value) {
          const items = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
          return items.map(item => item !== null && typeof item === "object" ? item : { identifier: item, title: null });
        }
        function propertiesCell(properties) {
          const entries = Object.entries(properties || {}).filter(([, value]) => value !== null && value !== undefined);
          return entries.length ? el("div", { class: "props" }, entries.map(([name, value]) =>
            el("div", {}, el("span", { class: "muted" }, name + ": "), typeof value === "string" ? value : JSON.stringify(value))))
            : el("span", { class: "muted" }, "—");
        }
        function relationsCell(blueprint, relations) {
          const definitions = (catalogBlueprints.get(blueprint) || {}).relations || {};
          const entries = Object.entries(relations || {});
          if (!entries.length) return el("span", { class: "muted" }, "—");
          return entries.map(([name, value]) => {
            const targets = relationTargets(value), target = (definitions[name] || {}).target;
            return el("div", { class: "relation", "data-relation": name }, el("span", { class: "muted" }, name + ": "),
              targets.length ? targets.flatMap((item, index) => [index ? ", " : "",
                target ? el("a", { class: "related", href: "#/catalog/" + encodeURIComponent(target) }, item.title || item.identifier)
                  : el("span", { class: "related" }, item.title || item.identifier),
                item.title ? el("span", { class: "muted" }, " (" + item.identifier + ")") : null])
                : el("span", { class: "muted" }, "none"));
          });
        }
        function entityTable(id, entities, withBlueprint) {
          const headings = (withBlueprint ? ["Blueprint"] : []).concat(["Title", "Identifier", "Properties", "Relations"]);
          return el("table", { id },
            el("thead", {}, el("tr", {}, headings.map(h => el("th", {}, h)))),
            el("tbody", {}, entities.length ? entities.map(entity => el("tr", { "data-entity": entity.identifier, "data-blueprint": entity.blueprint },
              withBlueprint ? el("td", {}, entity.blueprint) : null,
              el("td", {}, entity.title || el("span", { class: "muted" }, "—")),
              el("td", {}, el("code", {}, entity.identifier)),
              el("td", {}, propertiesCell(entity.properties)),
              el("td", {}, relationsCell(entity.blueprint, entity.relations))))
              : el("tr", {}, el("td", { colspan: headings.length, class: "muted" }, "No entities."))));
        }

        // The search card is built once and kept, so the query and its results survive
        // choosing another blueprint.
        function searchCard(example) {
          if (catalogSearch) return catalogSearch;
          const query = el("textarea", { id: "search-query", rows: 12, spellcheck: "false" });
          query.value = pretty({ combinator: "and", rules: [{ property: "$blueprint", operator: "=", value: example }] });
          const problem = el("div", { class: "problem", id: "search-error", role: "alert" });
          const results = el("div", { id: "search-results" });
          const form = el("form", { id: "search-form", onsubmit: async event => {
            event.preventDefault();
            problem.replaceChildren();
            let body;
            try { body = JSON.parse(query.value); } catch (error) { problem.append("The query is not valid JSON: " + error.message); return; }
            const answer = await api("POST", "/entities/search?attach_title_to_relation=true", body);
            if (answer.status >= 300) {
              results.replaceChildren();
              problem.append(el("strong", {}, answer.status + " " + (answer.json.error || "")), "\n" + (answer.json.message || pretty(answer.json)));
              return;
            }
            const entities = answer.json.entities || [];
            results.replaceChildren(
              el("p", { class: "muted", id: "search-summary" }, entities.length + (entities.length === 1 ? " entity" : " entities") + " in " + (answer.json.matchingBlueprints || []).join(", ")),
              entityTable("search-entities", entities, true));
          } },
            el("label", { for: "search-query" }, "Query ", el("span", { class: "hint" }, "(Port's {combinator, rules}, as POST /v1/entities/search takes it)")), query,
            el("p", {}, el("button", { type: "submit", id: "search-run" }, "Search")), problem);
          catalogSearch = el("div", { class: "card", id: "catalog-search" }, el("h3", { style: "margin-top:0" }, "Search entities"), form, results);
          return catalogSearch;
        }

        async function showCatalog(main, selected) {
          const view = "catalog " + selected;
          if (renderedView === view) return;
          renderedView = view;
          const blueprints = (await api("GET", "/blueprints")).json.blueprints || [];
          catalogBlueprints = new Map(blueprints.map(blueprint => [blueprint.identifier, blueprint]));
          const [counts, chosen] = await Promise.all([
            Promise.all(blueprints.map(blueprint => api("GET", "/blueprints/" + encodeURIComponent(blueprint.identifier) + "/entities?include=" + encodeURIComponent("$identifier"))
              .then(answer => answer.status < 300 ? (answer.json.entities || []).length : "?"))),
            selected ? api("GET", "/blueprints/" + encodeURIComponent(selected) + "/entities?attach_title_to_relation=true") : null]);
          if (renderedView !== view) return;
          const reload = () => { renderedView = null; refresh(); };
          const rows = blueprints.map((blueprint, index) => el("tr", { class: "blueprint" + (blueprint.identifier === selected ? " selected" : ""), "data-blueprint": blueprint.identifier,
            onclick: () => { location.hash = "#/catalog/" + encodeURIComponent(blueprint.identifier); } },
            el("td", {}, el("a", { href: "#/catalog/" + encodeURIComponent(blueprint.identifier) }, blueprint.title || blueprint.identifier), el("div", { class: "muted" }, blueprint.identifier)),
            el("td", { class: "count" }, String(counts[index])),
            el("td", {}, Object.entries(blueprint.relations || {}).map(([name, relation]) => el("div", { class: "relation" }, name + " → " + relation.target + (relation.many ? " (many)" : ""))))));
          const entities = !selected ? el("p", { class: "muted" }, "Choose a blueprint to list its entities.")
            : chosen.status >= 300 ? el("div", { class: "problem" }, chosen.status + " " + (chosen.json.error || "") + ": " + (chosen.json.message || ""))
            : entityTable("catalog-entities", chosen.json.entities || [], false);
          const title = selected ? ((catalogBlueprints.get(selected) || {}).title || selected) : null;
          main.replaceChildren(
            el("div", { class: "card" },
              el("div", { class: "toolbar" }, el("h3", {}, "Blueprints"), el("button", { class: "secondary", id: "catalog-reload", onclick: reload }, "Reload")),
              el("table", { id: "blueprints" },
                el("thead", {}, el("tr", {}, ["Blueprint", "Entities", "Relations"].map(h => el("th", {}, h)))),
                el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 3, class: "muted" }, "No blueprints are defined."))))),
            el("div", { class: "card", id: "catalog-blueprint" }, el("h3", { style: "margin-top:0" }, selected ? "Entities of " + title : "Entities"), entities),
            searchCard(selected || (blueprints[0] || {}).identifier || "service"));
        }
        """#
}
