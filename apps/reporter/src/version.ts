// Reported in hello; kept in step with apps/reporter/package.json by a unit test.
export const REPORTER_VERSION = "0.1.0";
