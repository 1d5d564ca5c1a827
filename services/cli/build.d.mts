/** Types of build.mjs (the build is plain JavaScript: it runs before anything is compiled). */
export declare const EXTERNAL: ReadonlyArray<string>;
export declare const sourcesHash: () => string;
/** Builds services/cli/dist; with `ifStale`, only when the sources changed. True when it built. */
export declare const buildCli: (options?: { readonly quiet?: boolean; readonly ifStale?: boolean }) => Promise<boolean>;
