// Public door of this package: re-export by name only. Placeholder until the
// first builders land.
export {};
