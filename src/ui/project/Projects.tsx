// The start page's list of saved projects: open, export, delete; import an exported one.
import { useEffect, useRef } from 'react';
import { set, useStore } from '../store';
import { PROJECT_EXT } from './bundle';
import { exportProject, importProject, openProject, refreshProjects, removeProject } from './persist';

const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`);

export function ProjectNotice() {
  const notice = useStore((s) => s.projectNotice);
  if (!notice) return null;
  return (
    <div className="banner" data-testid="project-notice">
      <span>{notice}</span>
      <button onClick={() => set({ projectNotice: null })}>Dismiss</button>
    </div>
  );
}

export function Projects() {
  const projects = useStore((s) => s.projects);
  const openHash = useStore((s) => s.fileHash);
  const picker = useRef<HTMLInputElement>(null);
  useEffect(() => { void refreshProjects(); }, []);
  return (
    <section className="projects" data-testid="projects">
      <div className="projects-head">
        <h3>Recent projects</h3>
        <button onClick={() => picker.current?.click()} data-testid="project-import">Import project…</button>
        <input
          ref={picker} type="file" accept={PROJECT_EXT} hidden data-testid="project-import-input"
          onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void importProject(f); }}
        />
      </div>
      {projects.length === 0 ? (
        <p className="muted small">Your work is saved in this browser as you go; projects appear here.</p>
      ) : (
        <table className="projects-table">
          <thead><tr><th>model</th><th>size</th><th>last step</th><th>saved</th><th /></tr></thead>
          <tbody>
            {projects.map((p) => (
              <tr key={p.hash} data-testid="project-row" data-hash={p.hash}>
                <td className="mono" data-testid="project-name">{p.name}{p.hash === openHash ? ' (open)' : ''}</td>
                <td>{size(p.size)}</td>
                <td data-testid="project-step">{p.lastStep}</td>
                <td>{new Date(p.savedAt).toLocaleString()}</td>
                <td className="project-actions">
                  <button onClick={() => void openProject(p.hash)} data-testid="project-open">Open</button>
                  <button onClick={() => void exportProject(p.hash)} data-testid="project-export">Export</button>
                  <button onClick={() => { if (confirm(`Delete the saved project of ${p.name}?`)) void removeProject(p.hash); }} data-testid="project-delete">Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
