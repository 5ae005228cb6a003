/** The lab's Active Directory: Samba AD DCs on loopback (one per forest), and the seeding of the fixture organisations. */
export {
  contosoForest, ensureSambaTemplate, fabrikamForest, lastSambaDcTimings, sambaDcProcesses, sambaDcStatus, startSambaDc, stopSambaDc,
  type SambaDcStatus, type SambaDcTimings, type SambaForestProfile, type StartSambaDcOptions, type StopSambaDcOptions,
} from './dc.ts';
export { seedDirectory, type SeedReport } from './seed.ts';
