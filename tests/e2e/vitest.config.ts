import { definePackageTestConfig } from "@ms/vitest-config";

// End-to-end files run one after another: they snapshot host state (/tmp,
// /var/tmp, mounts, processes) before and after runs, and share the test
// world's network namespaces, so files must not overlap.
export default definePackageTestConfig({
  test: { name: "e2e", fileParallelism: false, testTimeout: 60_000 },
});
