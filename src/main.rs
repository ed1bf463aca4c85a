fn main() -> std::process::ExitCode {
    // Everything this process creates (the store, its database files, logs) is
    // private to the user, whatever umask the session had.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    caseload::cli::main()
}
