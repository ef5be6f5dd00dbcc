/** Where a repo keeps its key policy (Probot's convention for app config). A leaf module: cheap to import. */
export const DEFAULT_POLICY_FILE = '.github/keywarden.yml';
