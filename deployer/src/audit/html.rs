//! The self-contained HTML report (`--html FILE`): no scripts, no external assets, so it opens
//! anywhere and can be archived with the audit. Sections: verdict and findings, a world map of
//! the sites coloured by status (inline SVG, equirectangular, from the inventory's lat/lon), sites
//! by tier and status, phase progress, and a collapsible timeline per site.

use std::{collections::BTreeMap, fmt::Write as _, path::Path};

use alloy::primitives::B256;
use anyhow::Context;

use super::{
    findings::Finding,
    report::VerifyReport,
    verify::{SiteHistory, status_name, tier_name},
};

/// Site name -> (lat, lon), from an inventory CSV with `site`, `lat` and `lon` columns.
pub(crate) fn load_coordinates(path: &Path) -> anyhow::Result<BTreeMap<String, (f64, f64)>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("reading the inventory {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: no header line", path.display()))?
        .clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).with_context(|| {
            format!(
                "{}: no `{name}` column; pass an inventory with site,lat,lon columns via --sites",
                path.display()
            )
        })
    };
    let (site, lat, lon) = (col("site")?, col("lat")?, col("lon")?);
    let mut out = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.with_context(|| format!("{}:{line}", path.display()))?;
        let parse = |c: usize, what: &str| -> anyhow::Result<f64> {
            record
                .get(c)
                .unwrap_or_default()
                .trim()
                .parse()
                .with_context(|| format!("{}:{line}: `{what}` is not a number", path.display()))
        };
        out.insert(
            record.get(site).unwrap_or_default().to_string(),
            (parse(lat, "lat")?, parse(lon, "lon")?),
        );
    }
    Ok(out)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn colour(status: u8) -> &'static str {
    match status {
        1 => "#9aa5b1",
        2 => "#3b82f6",
        3 => "#f59e0b",
        4 => "#16a34a",
        5 => "#dc2626",
        6 => "#7c3aed",
        7 => "#374151",
        _ => "#000000",
    }
}

fn short(h: &B256) -> String {
    let s = h.to_string();
    format!("{}…{}", &s[..10], &s[s.len() - 6..])
}

/// Renders the whole report.
pub(crate) fn render(
    report: &VerifyReport,
    sites: &BTreeMap<B256, SiteHistory>,
    coords: &BTreeMap<String, (f64, f64)>,
) -> String {
    let mut h = String::new();
    let ok = report.findings.is_empty();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Sankofa audit: {net}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2em;color:#111}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}}\
         .ok{{color:#16a34a}}.bad{{color:#dc2626}}code{{font-size:12px}}summary{{cursor:pointer}}\
         .bar{{background:#e5e7eb;width:200px;height:10px;display:inline-block}}.fill{{background:#16a34a;height:10px}}\
         </style></head><body><h1>Sankofa audit: {net}</h1>",
        net = esc(&report.network)
    );
    let _ = write!(
        h,
        "<p>Chain {} — blocks {}..={} — {} logs in {} pages — {} reports checked — \
         {} governed transactions, {} through the Governor.</p>",
        report.chain_id,
        report.from_block,
        report.to_block,
        report.logs,
        report.pages,
        report.reports_checked,
        report.governed_txs,
        report.governed_via_timelock
    );
    let _ = write!(
        h,
        "<h2 class=\"{}\">{}</h2>",
        if ok { "ok" } else { "bad" },
        if ok {
            "Verified: no findings".to_string()
        } else {
            format!("{} finding(s)", report.findings.len())
        }
    );
    if !ok {
        findings_table(&mut h, &report.findings);
    }

    // The map.
    let (w, ht) = (720.0, 360.0);
    let _ = write!(
        h,
        "<h2>Sites</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{ht}\" \
         viewBox=\"0 0 {w} {ht}\" style=\"background:#eef6fb;border:1px solid #ccc\">"
    );
    for lon in (-150..=150).step_by(30) {
        let x = (f64::from(lon) + 180.0) / 360.0 * w;
        let _ = write!(
            h,
            "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{ht}\" stroke=\"#d5e3ec\"/>"
        );
    }
    for lat in (-60..=60).step_by(30) {
        let y = (90.0 - f64::from(lat)) / 180.0 * ht;
        let _ = write!(
            h,
            "<line x1=\"0\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" stroke=\"#d5e3ec\"/>"
        );
    }
    let mut unplaced = 0;
    for s in sites.values() {
        let Some((lat, lon)) = coords.get(&s.site) else {
            unplaced += 1;
            continue;
        };
        let (x, y) = ((lon + 180.0) / 360.0 * w, (90.0 - lat) / 180.0 * ht);
        let r = match s.tier {
            1 => 5,
            2 => 3,
            _ => 2,
        };
        let _ = write!(
            h,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{}\"><title>{} ({}, {})</title></circle>",
            colour(s.status),
            esc(&s.site),
            tier_name(s.tier),
            status_name(s.status)
        );
    }
    h.push_str("</svg><p>");
    for st in 1..=7u8 {
        let _ = write!(
            h,
            "<span style=\"color:{}\">●</span> {} &nbsp; ",
            colour(st),
            status_name(st)
        );
    }
    if unplaced > 0 {
        let _ = write!(
            h,
            "({unplaced} site(s) without coordinates in the inventory)"
        );
    }
    h.push_str("</p>");

    // Tier x status table.
    let mut counts: BTreeMap<(u8, u8), usize> = BTreeMap::new();
    for s in sites.values() {
        *counts.entry((s.tier, s.status)).or_default() += 1;
    }
    h.push_str("<table><tr><th>tier</th>");
    for st in 1..=7u8 {
        let _ = write!(h, "<th>{}</th>", status_name(st));
    }
    h.push_str("</tr>");
    for tier in 1..=3u8 {
        let _ = write!(h, "<tr><td>{}</td>", tier_name(tier));
        for st in 1..=7u8 {
            let _ = write!(
                h,
                "<td>{}</td>",
                counts.get(&(tier, st)).copied().unwrap_or_default()
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");

    // Phase progress.
    h.push_str("<h2>Phases</h2><table><tr><th>phase</th><th>approved</th><th>criterion</th><th>have / need</th><th></th></tr>");
    for p in &report.phases {
        for c in &p.criteria {
            let pct = (c.have * 100).checked_div(c.need).unwrap_or(100).min(100);
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td>\
                 <td><span class=\"bar\"><div class=\"fill\" style=\"width:{pct}%\"></div></span></td></tr>",
                p.phase,
                if p.approved { "yes" } else { "no" },
                c.what,
                c.have,
                c.need
            );
        }
    }
    h.push_str("</table>");

    // Timelines.
    h.push_str("<h2>Timelines</h2>");
    for s in sites.values() {
        let site_findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.site.as_deref() == Some(s.site.as_str()))
            .collect();
        let _ = write!(
            h,
            "<details><summary><b>{}</b> {} — {} — {} report(s){}</summary><table>\
             <tr><th>block</th><th>time</th><th>event</th><th>detail</th><th>signer</th><th>verified</th><th>approval</th><th>tx</th></tr>",
            esc(&s.site),
            tier_name(s.tier),
            status_name(s.status),
            s.reports,
            if site_findings.is_empty() {
                String::new()
            } else {
                format!(
                    " — <span class=\"bad\">{} finding(s)</span>",
                    site_findings.len()
                )
            }
        );
        for t in &s.timeline {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                t.block,
                super::report::iso_time(t.time),
                t.kind,
                esc(&t.detail),
                t.signer.map(|a| a.to_string()).unwrap_or_default(),
                match t.verified {
                    Some(true) => "<span class=\"ok\">✔</span>",
                    Some(false) => "<span class=\"bad\">✘</span>",
                    None => "",
                },
                t.approval
                    .as_ref()
                    .map(|a| esc(&a.summary()))
                    .unwrap_or_default(),
                short(&t.tx)
            );
        }
        h.push_str("</table></details>");
    }
    h.push_str("</body></html>\n");
    h
}

fn findings_table(h: &mut String, findings: &[Finding]) {
    h.push_str("<table><tr><th>kind</th><th>site</th><th>wave</th><th>step</th><th>block</th><th>message</th></tr>");
    for f in findings {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.kind.as_str(),
            esc(f.site.as_deref().unwrap_or("")),
            f.wave.map(|w| w.to_string()).unwrap_or_default(),
            f.step.map(|w| w.to_string()).unwrap_or_default(),
            f.block.map(|w| w.to_string()).unwrap_or_default(),
            esc(&f.message)
        );
    }
    h.push_str("</table>");
}
