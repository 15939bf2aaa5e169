import { definePackageConfig } from "@ms/tsup-config";

export default definePackageConfig();
