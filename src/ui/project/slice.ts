// The project part of the app store: the saved projects listed on the start page and what storage said.
import type { ProjectMeta } from './db';

export interface ProjectSlice {
  projects: readonly ProjectMeta[];
  /** One line about storage: a failed save, the quota nearly used, a restored project. */
  projectNotice: string | null;
  /** When the open model's project was last written. */
  savedAt: number | null;
}

export const initialProjectSlice: ProjectSlice = { projects: [], projectNotice: null, savedAt: null };
