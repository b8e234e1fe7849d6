// Render CSL-JSON items with citeproc-js (the processor Zotero uses), for differential tests.
//
// Reads one JSON document on stdin:
//   {"jobs": [{"items": [...], "style": "/path/style.csl", "locales": "/path/locales",
//              "lang": "en-US", "format": "text"|"html"}]}
// and prints {"results": [{"bibliography": [...], "citations": [...], "cluster": "...",
//              "render_s": seconds}]}: the bibliography entries in the style's order, the
// first in-text citation of each item (in input order) and one cluster citing all items.
"use strict";
const fs = require("fs");
const path = require("path");
const CSL = require("citeproc");

function render(job) {
  const byId = new Map(job.items.map((item) => [String(item.id), item]));
  const sys = {
    retrieveItem: (id) => byId.get(String(id)),
    retrieveLocale: (lang) => {
      const file = path.join(job.locales, `locales-${lang}.xml`);
      return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : false;
    },
  };
  const styleXml = fs.readFileSync(job.style, "utf8");
  const started = process.hrtime.bigint();
  const engine = new CSL.Engine(sys, styleXml, job.lang, true);
  engine.setOutputFormat(job.format || "text");
  const ids = job.items.map((item) => String(item.id));
  engine.updateItems(ids);
  const bib = engine.makeBibliography();
  const bibliography = bib ? bib[1].map((entry) => entry.trim()) : [];
  const citations = job.citations === false
    ? []
    : ids.map((id) => engine.makeCitationCluster([{ id }]));
  const cluster = job.cluster === false
    ? ""
    : engine.makeCitationCluster(ids.map((id) => ({ id })));
  const renderS = Number(process.hrtime.bigint() - started) / 1e9;
  return { bibliography, citations, cluster, render_s: renderS };
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const results = input.jobs.map(render);
process.stdout.write(JSON.stringify({ results }));
