; Directory Sync's part of electron-builder's NSIS installer (nsis.include in installer/electron-builder.json).
;
; The engine runs as the Windows service "Directory Synchronization Service" (id DirectorySync) through
; the WinSW service wrapper shipped beside the app (resources\service\DirectorySyncService.exe and its
; .xml: the app's own executable with ELECTRON_RUN_AS_NODE=1 runs engine\bin\dirsync.js service run),
; as the virtual account NT SERVICE\DirectorySync. Its data in %ProgramData%\Directory Sync is
; readable by that account, SYSTEM and Administrators only.

!define DIRSYNC_SERVICE "DirectorySync"
!define DIRSYNC_WRAPPER "$INSTDIR\resources\service\DirectorySyncService.exe"
; %ProgramData%: $APPDATA once the shell variables are set for all users (SetShellVarContext all).
!define DIRSYNC_DATA "$APPDATA\Directory Sync"

; The finish page offers "Start Configuration Wizard now", ticked.
!macro customFinishPage
  Function DirSyncStartConfigurationWizard
    ExecShell "open" "$INSTDIR\${PRODUCT_FILENAME}.exe" "--configuration-wizard"
  FunctionEnd
  !define MUI_FINISHPAGE_RUN
  !define MUI_FINISHPAGE_RUN_TEXT "Start Configuration Wizard now"
  !define MUI_FINISHPAGE_RUN_FUNCTION "DirSyncStartConfigurationWizard"
  !insertmacro MUI_PAGE_FINISH
!macroend

; Install or upgrade: an upgrade stops the running service first (its run stops after the page of
; writes in flight, resumable), replaces the files, and starts it again on the same data.
!macro customInstall
  SetShellVarContext all
  nsExec::ExecToLog 'sc.exe stop ${DIRSYNC_SERVICE}'
  Pop $0
  nsExec::ExecToLog '"${DIRSYNC_WRAPPER}" install'
  Pop $0
  nsExec::ExecToLog 'sc.exe config ${DIRSYNC_SERVICE} obj= "NT SERVICE\${DIRSYNC_SERVICE}" start= delayed-auto'
  Pop $0
  CreateDirectory "${DIRSYNC_DATA}"
  nsExec::ExecToLog 'icacls "${DIRSYNC_DATA}" /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" "NT SERVICE\${DIRSYNC_SERVICE}:(OI)(CI)M"'
  Pop $0
  nsExec::ExecToLog 'sc.exe start ${DIRSYNC_SERVICE}'
  Pop $0
!macroend

; Replaces electron-builder's app-running check (customCheckAppRunning), which would find the service's
; own executable and kill it mid-run. Before an upgrade or an uninstall: the service is asked over its
; control channel whether a run is in progress (dirsync-status.cmd runs `dirsync service busy`); a run is
; waited for, and anything but a clear "no run" is asked about, never assumed (fail closed). Then the
; service stops gracefully (`net stop` waits; WinSW runs `dirsync service stop`), and only then are the
; remaining app windows (the wizard, which holds no state) closed.
!macro customCheckAppRunning
  SetShellVarContext all
  ${If} ${FileExists} "$INSTDIR\resources\service\dirsync-status.cmd"
    DirSyncCheckRun:
      nsExec::ExecToStack '"$INSTDIR\resources\service\dirsync-status.cmd"'
      Pop $0
      Pop $1
      ${If} $0 == "5"
        MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "A synchronization is in progress: $1$\r$\nRetry when it has finished (the Operations view shows it), or Cancel to leave Directory Sync as it is." /SD IDCANCEL IDRETRY DirSyncCheckRun
        Quit
      ${ElseIf} $0 != "0"
        MessageBox MB_RETRYCANCEL|MB_ICONSTOP "Directory Sync could not tell whether a synchronization is in progress ($0): $1$\r$\nRetry, or Cancel to leave Directory Sync as it is." /SD IDCANCEL IDRETRY DirSyncCheckRun
        Quit
      ${EndIf}
    ; net stop waits for the service (WinSW runs `dirsync service stop`; a run ends after its current page). Exit 2:
    ; the service was not started. Anything else: it did not stop in time — never kill it, ask.
    DirSyncStopService:
      nsExec::ExecToStack 'net.exe stop ${DIRSYNC_SERVICE}'
      Pop $0
      Pop $1
      ${If} $0 != "0"
      ${AndIf} $0 != "2"
        MessageBox MB_RETRYCANCEL|MB_ICONSTOP "The Directory Synchronization Service has not stopped yet ($0): $1$\r$\nRetry, or Cancel to leave Directory Sync as it is." /SD IDCANCEL IDRETRY DirSyncStopService
        Quit
      ${EndIf}
    ; Only the wizard's windows are left (they hold no state): never a process of the services session.
    nsExec::ExecToLog 'taskkill.exe /IM "${APP_EXECUTABLE_FILENAME}" /FI "SESSIONNAME ne Services" /T /F'
    Pop $0
  ${EndIf}
!macroend

; Uninstall: customCheckAppRunning has waited for a run in progress and stopped the service; it is now
; removed; the data is kept unless the administrator chooses to delete it.
!macro customUnInstall
  SetShellVarContext all
  nsExec::ExecToLog '"${DIRSYNC_WRAPPER}" uninstall'
  Pop $0
  MessageBox MB_YESNO|MB_ICONQUESTION "Keep the configuration and the synchronization state in ${DIRSYNC_DATA}? (Recommended: a reinstall carries on where it stopped.)" /SD IDYES IDYES DirSyncKeepData
    RMDir /r "${DIRSYNC_DATA}"
  DirSyncKeepData:
!macroend
