// Bundled from icons/providers/ as files of the app: the CSP allows no remote images.
const ICONS = import.meta.glob<string>("../../../icons/providers/*.svg", {
  eager: true,
  query: "?url",
  import: "default",
});

const path = (name: string) => `../../../icons/providers/${name}.svg`;

/** The mark of a built-in provider or API-key service by its id; custom providers get the neutral one. */
export function providerIcon(id: string | null): string {
  return (id === null ? undefined : ICONS[path(id)]) ?? ICONS[path("custom")]!;
}
