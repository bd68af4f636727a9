fn main() -> std::process::ExitCode {
    posbon::cli::main()
}
