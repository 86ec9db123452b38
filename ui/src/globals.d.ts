/** The app's version, from the workspace Cargo.toml (see vite.config.ts). */
declare const __APP_VERSION__: string;
