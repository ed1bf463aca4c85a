fn main() -> std::process::ExitCode {
    // Everything this process creates (the store, its database files, logs) is
    // private to the user, whatever umask the session had.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    hand_back_freed_memory_sooner();
    caseload::cli::main()
}

/// glibc keeps the free memory at the top of its heaps for reuse up to a
/// threshold it raises itself whenever a large block is freed (sled's write
/// buffers), as far as 64 MiB. Fixed, the rest goes back to the system: at
/// 8 MiB a 52,500-row import's peak went 141–155 → 130 MB; at 1 MiB the
/// workbench holds 7 MB less once unlocked — the heap of the thread that
/// opened the database while the key was derived kept its freed top, which
/// `malloc_trim` does not hand back for any heap but the main one — and the
/// import, unlocking and hub ingest take as long (docs/architecture.md,
/// "Memory of an unlocked store").
fn hand_back_freed_memory_sooner() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets one of the allocator's tuning values.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 20);
    }
}
