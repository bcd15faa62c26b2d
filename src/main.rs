//! The `strata` binary: a thin shell over the library.

fn main() -> std::process::ExitCode {
    strata::cli::main()
}
