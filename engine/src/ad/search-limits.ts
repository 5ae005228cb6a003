/**
 * The time limit the engine asks the DC to apply to its searches: none (0). ldapts otherwise sends
 * 10 seconds, and a DC answers a paged search's first page only after it has evaluated the whole
 * search: with 100,000 objects that took Samba longer than 10 s, and the full import failed with
 * "ldb_wait … Operations error" (the bench found it). The DC's own policy (MaxQueryDuration, 120 s
 * by default in AD) and the client's per-request timeout still bound every search.
 */
export const NO_SEARCH_TIME_LIMIT = { timeLimit: 0 } as const;
