//! Botnet growth and impact models (equations 1-4), simulation and fitting.
