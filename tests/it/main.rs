//! The integration tests: one test binary (each binary links libtorch, so one link instead of
//! eight), one module per subject. Tiny random-weight models (`common`) test the edges;
//! `default_models` tests the shipped checkpoints.

mod common;

mod annotate;
mod bench;
mod corpus_input;
mod data_safety;
mod default_models;
mod engine;
mod joint;
mod reference_output;
mod report_cli;
mod robustness;
mod serve;
