#![no_main]
//! Hostile observation CSV: read columns and run every fit; nothing may panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok((c, _)) = botscope_model::read_columns("fuzz.csv", &text, &["t", "infected"]) {
        let _ = botscope_model::fit_logistic(&c[0], &c[1]);
        let orders: Vec<f64> = c[0].iter().step_by(7).copied().take(16).collect();
        let _ = botscope_model::fit_bursts(&c[0], &c[1], &orders);
        let w: Vec<_> = c[0]
            .iter()
            .zip(&c[1])
            .map(|(&bots, &count)| botscope_model::Window { bots, duration: 1.0, count })
            .collect();
        let _ = botscope_model::fit_spam(&w);
    }
});
