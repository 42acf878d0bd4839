//! Tables, charts, the HTML field report and the live dashboard.
