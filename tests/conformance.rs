//! Conformance with the behaviours compose-go's loader tests pin (one file
//! per attribute under `loader/tests`, plus `loader_test.go`,
//! `normalize_test.go`, `extends_test.go`, `include_test.go`, the
//! `override` merge tests) and with the spec's interpolation and merge
//! chapters. Each test writes a small project into a temporary directory,
//! loads it through the public `compose::loader::load` and checks the typed
//! project as `compose config` prints it, then prints and reloads it to check
//! that the printed form means the same (compose-go's round trip).

mod conformance {
    pub mod support;

    mod attributes;
    mod build;
    mod deploy;
    mod dotenv;
    mod environment;
    mod extends;
    mod features;
    mod include;
    mod interpolation;
    mod loader;
    mod merge;
    mod networks;
    mod normalize;
    mod ports;
    mod profiles;
    mod project;
    mod resources;
    mod tags;
    mod validation;
    mod volumes;
}
