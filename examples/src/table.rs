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

/// What one run of an example produced: its tables (each with the stem of its CSV file) and
/// a note saying how they were made, beside the paper's tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// The results file's title, e.g. "Viel & Orhan: ablation (Table 6)".
    pub heading: String,
    /// How the numbers were made: protocol, scale, data.
    pub note: String,
    /// This run's tables, each with its CSV file's stem (`table6` for `table6.csv`).
    pub tables: Vec<(String, Table)>,
    /// The paper's tables, in the same layout.
    pub paper: Vec<Table>,
}

impl Results {
    /// The table written as `<stem>.csv`.
    pub fn table(&self, stem: &str) -> Option<&Table> {
        self.tables.iter().find(|(s, _)| s == stem).map(|(_, t)| t)
    }

    /// Writes `dir/<stem>.csv` for each of this run's tables and `dir/results.md` with every
    /// table of this run, the note, and the paper's tables after them.
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (stem, table) in &self.tables {
            let path = dir.join(format!("{stem}.csv"));
            ptx_io::write_atomic(&path, |out| out.write_all(table.to_csv().as_bytes()))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let mut md = format!("# {}\n\n{}\n\n## This run\n\n", self.heading, self.note);
        for (_, t) in &self.tables {
            md += &t.to_markdown();
            md += "\n";
        }
        md += "## The paper\n\n";
        for t in &self.paper {
            md += &t.to_markdown();
            md += "\n";
        }
        let path = dir.join("results.md");
        ptx_io::write_atomic(&path, |out| out.write_all(md.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    /// The results of the same example run with several seeds, in one: a cell that is the
    /// same in every seed (a label, a setting, the paper's number) is kept; a number that
    /// differs becomes the mean over the seeds followed by `± r`, half the range between the
    /// lowest and the highest (for two seeds, each seed is the mean ± r), with the first
    /// seed's decimals (one more when an integer mean or range is not whole); any other
    /// cell lists the seeds' values separated by ` / `. Notes that differ are given per
    /// seed; `synthetic` says that each seed had its own synthetic images.
    ///
    /// # Errors
    /// No runs, or seeds whose tables differ in number, rows or columns.
    pub fn over_seeds(runs: &[(u64, Results)], synthetic: bool) -> Result<Results> {
        let Some((_, first)) = runs.first() else {
            anyhow::bail!("no seeds to merge");
        };
        for (seed, r) in runs {
            let shape = |res: &Results| -> Vec<Vec<usize>> {
                res.tables
                    .iter()
                    .map(|(_, t)| t.rows.iter().map(Vec::len).collect())
                    .collect()
            };
            if shape(r) != shape(first) {
                anyhow::bail!("seed {seed}'s tables differ in shape from the first seed's");
            }
        }
        let seeds: Vec<String> = runs.iter().map(|(s, _)| s.to_string()).collect();
        let mut tables = first.tables.clone();
        for (t, (_, table)) in tables.iter_mut().enumerate() {
            for (r, row) in table.rows.iter_mut().enumerate() {
                for (c, cell) in row.iter_mut().enumerate() {
                    let cells: Vec<&str> = runs
                        .iter()
                        .map(|(_, res)| res.tables[t].1.rows[r][c].as_str())
                        .collect();
                    *cell = merge_cells(&cells);
                }
            }
        }
        let note = if runs.iter().all(|(_, r)| r.note == first.note) {
            first.note.clone()
        } else {
            runs.iter()
                .map(|(s, r)| format!("Seed {s}: {}", r.note))
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        Ok(Results {
            heading: first.heading.clone(),
            note: format!(
                "{note}\n\nSeeds {}, each with its own {}run folders (`seed-N/`); every number that differs between them is their mean ± half the range between them (a difference between rows smaller than the ± is within run-to-run noise); a number without ± was the same in every seed.",
                seeds.join(" and "),
                if synthetic { "synthetic images and " } else { "" }
            ),
            tables,
            paper: first.paper.clone(),
        })
    }
}

/// One cell of [`Results::over_seeds`].
fn merge_cells(cells: &[&str]) -> String {
    if cells.iter().all(|c| *c == cells[0]) {
        return cells.first().map_or_else(String::new, |c| c.to_string());
    }
    let values: Option<Vec<f64>> = cells
        .iter()
        .map(|c| c.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect();
    match values {
        Some(v) if !v.is_empty() => {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let (lo, hi) = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
                    (l.min(x), h.max(x))
                });
            let half = (hi - lo) / 2.0;
            let mut digits = cells[0].split_once('.').map_or(0, |(_, d)| d.len());
            if digits == 0 && (mean.fract() != 0.0 || half.fract() != 0.0) {
                digits = 1; // counts: 10 and 9 are 9.5 ± 0.5, not 10 ± 0
            }
            format!("{mean:.digits$} ± {half:.digits$}")
        }
        _ => cells.join(" / "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_merge_numbers_and_keep_labels() {
        let result = |dice: &str, label: &str| Results {
            heading: "h".into(),
            note: "n".into(),
            tables: vec![("t".into(), {
                let mut t = Table::new("T", &["Model", "Dice", "Mark", "Paper"]);
                t.row(vec![
                    "baseline".into(),
                    dice.into(),
                    label.into(),
                    "0.58".into(),
                ]);
                t
            })],
            paper: Vec::new(),
        };
        let merged = Results::over_seeds(
            &[(7, result("0.600", "✓")), (8, result("0.650", "✓"))],
            true,
        )
        .unwrap();
        assert_eq!(
            merged.tables[0].1.rows[0],
            ["baseline", "0.625 ± 0.025", "✓", "0.58"]
        );
        assert!(merged
            .note
            .contains("Seeds 7 and 8, each with its own synthetic images"));
        let merged =
            Results::over_seeds(&[(7, result("10", "")), (8, result("9", ""))], true).unwrap();
        assert_eq!(merged.tables[0].1.rows[0][1], "9.5 ± 0.5");
        let mut other = result("0.5", "");
        other.tables[0].1.rows.clear();
        assert!(Results::over_seeds(&[(7, result("0.5", "")), (8, other)], true).is_err());
        assert!(Results::over_seeds(&[], true).is_err());
        let merged =
            Results::over_seeds(&[(7, result("-", "a")), (8, result("0.5", "b"))], false).unwrap();
        assert!(!merged.note.contains("synthetic"), "{}", merged.note);
        assert_eq!(
            merged.tables[0].1.rows[0],
            ["baseline", "- / 0.5", "a / b", "0.58"]
        );
    }
}
