//! `rill usage`: what was spent, from a running server's `GET /v1/usage` or straight from
//! a ledger database.

use anyhow::Context;
use rill_ledger::{Filter, Group, GroupBy, Reader, Target};
use secrecy::SecretString;

use crate::cli::UsageArgs;

pub async fn usage(args: UsageArgs) -> anyhow::Result<()> {
    let by = GroupBy::parse(&args.group_by).context("--group-by takes key, model or day")?;
    let groups = match (&args.db, args.local) {
        (Some(db), _) => from_db(&args, by, Some(db)).await?,
        (None, true) => from_db(&args, by, None).await?,
        (None, false) => from_server(&args).await?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&groups)?);
        return Ok(());
    }
    print!("{}", table(by, &groups));
    Ok(())
}

/// The ledger database itself: `db` (a SQLite file, `sqlite://PATH` or `postgres://...`),
/// or the SQLite file in rill's data directory.
async fn from_db(args: &UsageArgs, by: GroupBy, db: Option<&str>) -> anyhow::Result<Vec<Group>> {
    let target = match db {
        Some(db) if db.contains("://") => Target::new(Some(db), &rill_server::data_dir())?,
        Some(path) => Target::Sqlite(path.into()),
        None => Target::new(None, &rill_server::data_dir())?,
    };
    if let Target::Sqlite(path) = &target
        && !path.exists()
    {
        anyhow::bail!(
            "there is no ledger at {}\nhint: `rill serve` creates it with its first generation; --db names another",
            path.display()
        );
    }
    let time = |name: &str, text: &Option<String>| -> anyhow::Result<Option<i64>> {
        text.as_deref()
            .map(|text| {
                rill_ledger::parse_time(text).with_context(|| {
                    format!("--{name} `{text}`: give a date (2026-12-07, UTC), an RFC 3339 time or Unix seconds")
                })
            })
            .transpose()
    };
    let filter = Filter {
        key: args.key.clone(),
        model: args.model.clone(),
        since_ms: time("since", &args.since)?,
        until_ms: time("until", &args.until)?,
    };
    let reader = Reader::open(&target)
        .await
        .with_context(|| format!("cannot read the ledger ({})", target.describe()))?;
    Ok(reader.usage(&filter, by).await?)
}

async fn from_server(args: &UsageArgs) -> anyhow::Result<Vec<Group>> {
    let key = args.client.api_key.clone().map(SecretString::from);
    let client = rill_client::Client::new(&args.client.url, key)?;
    let mut query = vec![("group_by", args.group_by.as_str())];
    let filters = [
        ("key", &args.key),
        ("model", &args.model),
        ("since", &args.since),
        ("until", &args.until),
    ];
    for (name, value) in filters {
        if let Some(value) = value {
            query.push((name, value.as_str()));
        }
    }
    let body = client
        .usage(&query)
        .await
        .with_context(|| format!("GET {}/v1/usage", args.client.url.trim_end_matches('/')))?;
    let data = body.get("data").cloned().unwrap_or_default();
    serde_json::from_value(data).context("the server's usage answer has no `data` list")
}

/// The groups as an aligned table, with a total row.
fn table(by: GroupBy, groups: &[Group]) -> String {
    let mut total = Group {
        group: Some("total".into()),
        ..Group::default()
    };
    let mut rows = vec![[
        by.name().to_owned(),
        "requests".into(),
        "input".into(),
        "cached".into(),
        "output".into(),
        "reasoning".into(),
        "estimated".into(),
        "cost (USD)".into(),
        "from cache".into(),
        "saved (USD)".into(),
    ]];
    let row = |g: &Group, name: String| {
        [
            name,
            g.requests.to_string(),
            g.input_tokens.to_string(),
            g.cached_input_tokens.to_string(),
            g.output_tokens.to_string(),
            g.reasoning_tokens.to_string(),
            g.estimated.to_string(),
            format!("{:.6}", g.cost_usd),
            g.cache_hits.to_string(),
            format!("{:.6}", g.saved_usd),
        ]
    };
    for group in groups {
        total.add(group);
        let name = group.group.clone().unwrap_or_else(|| "(no key)".into());
        rows.push(row(group, name));
    }
    rows.push(row(&total, "total".into()));
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, width))| match i {
                0 => format!("{cell:<width$}"),
                _ => format!("{cell:>width$}"),
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
