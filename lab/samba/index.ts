/** The lab's Active Directory: a Samba AD DC on loopback, and the seeding of the fixture organisation. */
export {
  ensureSambaTemplate, lastSambaDcTimings, sambaDcProcesses, sambaDcStatus, startSambaDc, stopSambaDc,
  type SambaDcStatus, type SambaDcTimings, type StartSambaDcOptions, type StopSambaDcOptions,
} from './dc.ts';
export { seedDirectory, type SeedReport } from './seed.ts';
