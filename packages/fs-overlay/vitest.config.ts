import { definePackageTestConfig } from "@ms/vitest-config";

export default definePackageTestConfig({ test: { name: "fs-overlay" } });
