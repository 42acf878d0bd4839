//! Resolver-log readers, watch-list matching and the deemed infection rate (exact and HyperLogLog), Parquet lake.
