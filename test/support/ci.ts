/** Whether the tests run in CI (env CI set, as `.ci/run` does): there, a test that cannot run fails instead of skipping. */
export const inCi = (): boolean => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci !== "false";
};
