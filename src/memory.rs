//! Handing memory the run has freed back to the system.
//!
//! glibc's allocator keeps what a program frees for its next allocations, spread over one arena
//! per thread, so a phase that builds large arrays and drops them leaves the process's resident
//! size where that phase's peak put it, and the next phase's arrays stack on top. On a night of
//! 100,000 articles the brief's phases (wire-copy detection, grouping, the three files) each
//! free hundreds of megabytes; [`give_back`] between them lets the next start from what is
//! live. Elsewhere (other C libraries, other systems) it does nothing.

/// Set the allocator up for a long batch run, before any thread starts: two arenas (glibc makes
/// up to eight per core, each keeping its own freed memory, and the run's threads spread every
/// article's allocations over them), and blocks of 256 KiB or more mapped on their own, so
/// that each is handed back the moment it is freed (glibc otherwise raises that threshold as
/// large blocks are freed, and the brief's arrays end up in arenas that keep them). On a
/// synthetic night of 20,000 articles the peak went from 319 to 287 MiB.
#[allow(unsafe_code)] // `mallopt` takes two integers
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Return the allocator's free memory to the system (glibc's `malloc_trim`); cheap next to
/// the phases it separates (it walks the free lists once).
#[allow(unsafe_code)] // the one foreign call; it takes no pointers
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointers and only releases memory no allocation owns.
    unsafe {
        libc::malloc_trim(0);
    }
}
