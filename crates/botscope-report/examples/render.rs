//! Renders a report: `render DATA_DIR OUT [html|md|json]` (used by `bench/report.sh`).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: render DATA_DIR OUT [html|md|json]");
        std::process::exit(2);
    }
    let format = args
        .get(3)
        .and_then(|f| botscope_report::Format::parse(f))
        .unwrap_or(botscope_report::Format::Html);
    match botscope_report::render_report(args[1].as_ref(), args[2].as_ref(), format) {
        Ok(s) => println!("{}", serde_json::to_string(&s).unwrap_or_default()),
        Err(e) => {
            eprintln!("render: {e}");
            std::process::exit(1);
        }
    }
}
