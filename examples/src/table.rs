//! Results tables: printed, and written as CSV and Markdown.

use std::path::Path;

use anyhow::{Context, Result};

/// A table with a title, column names and rows of already formatted cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Caption, e.g. "Table 6: Ablation study".
    pub title: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table.
    pub fn new(title: &str, columns: &[&str]) -> Self {
        Self {
            title: title.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    ///
    /// # Panics
    /// When the row's length differs from the number of columns (a programmer error).
    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(
            cells.len(),
            self.columns.len(),
            "row length of {}",
            self.title
        );
        self.rows.push(cells);
    }

    /// The table in GitHub Markdown, caption first.
    pub fn to_markdown(&self) -> String {
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        let mut out = format!("**{}**\n\n", self.title);
        out += &line(&self.columns);
        out += &line(&vec!["---".to_string(); self.columns.len()]);
        for r in &self.rows {
            out += &line(r);
        }
        out
    }

    /// The table as CSV (header row; cells with a comma or quote are quoted).
    pub fn to_csv(&self) -> String {
        let cell = |c: &String| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        };
        let line = |cells: &[String]| cells.iter().map(cell).collect::<Vec<_>>().join(",") + "\n";
        let mut out = line(&self.columns);
        for r in &self.rows {
            out += &line(r);
        }
        out
    }
}

/// A number with `digits` decimals; "-" for NaN or `None`.
pub fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "-".into(),
    }
}

/// A check mark when `on` (the papers' ablation tables), else empty.
pub fn mark(on: bool) -> String {
    if on { "✓" } else { "" }.into()
}

/// Writes `dir/<stem>.csv` for each table of `ours` (stem = `stems[i]`) and `dir/results.md`
/// with every table of this run, a note, and the paper's tables after them.
///
/// # Errors
/// When a file cannot be written.
pub fn write_results(
    dir: &Path,
    heading: &str,
    note: &str,
    ours: &[(&str, &Table)],
    paper: &[Table],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (stem, table) in ours {
        let path = dir.join(format!("{stem}.csv"));
        ptx_io::write_atomic(&path, |out| out.write_all(table.to_csv().as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut md = format!("# {heading}\n\n{note}\n\n## This run\n\n");
    for (_, t) in ours {
        md += &t.to_markdown();
        md += "\n";
    }
    md += "## The paper\n\n";
    for t in paper {
        md += &t.to_markdown();
        md += "\n";
    }
    let path = dir.join("results.md");
    ptx_io::write_atomic(&path, |out| out.write_all(md.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
