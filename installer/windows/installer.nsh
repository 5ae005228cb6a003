; Directory Sync's part of electron-builder's NSIS installer (nsis.include in installer/electron-builder.json).
;
; The engine runs as the Windows service "Directory Synchronization Service" (id DirectorySync) through
; the WinSW service wrapper shipped beside the app (resources\service\DirectorySyncService.exe and its
; .xml: the app's own executable with ELECTRON_RUN_AS_NODE=1 runs engine\bin\dirsync.js service run),
; as the virtual account NT SERVICE\DirectorySync. Its data in %ProgramData%\Directory Sync is
; readable by that account, SYSTEM and Administrators only.

!include "WinMessages.nsh"

!define DIRSYNC_SERVICE "DirectorySync"
!define DIRSYNC_WRAPPER "$INSTDIR\resources\service\DirectorySyncService.exe"
; %ProgramData%: $APPDATA once the shell variables are set for all users (SetShellVarContext all).
!define DIRSYNC_DATA "$APPDATA\Directory Sync"
; `dirsync` for administrators (resources\bin is put on the machine PATH).
!define DIRSYNC_CLI "$INSTDIR\resources\bin\dirsync.cmd"
; The Application log's source the engine writes to (engine/src/base/logger.ts).
!define DIRSYNC_EVENT_SOURCE "Directory Sync"

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

; Every step of the install is checked: the first that fails is shown with its output, and the install is
; rolled back (the service removed, the files uninstalled; the data folder is kept so a reinstall carries on).
Var DirSyncError

; Runs a command line unless a step already failed; a non-zero exit code becomes the error shown.
!macro DirSyncStep WHAT COMMAND
  ${If} $DirSyncError == ""
    DetailPrint "${WHAT}"
    nsExec::ExecToStack '${COMMAND}'
    Pop $0
    Pop $1
    ${If} $0 != "0"
      StrCpy $DirSyncError "${WHAT} failed (exit code $0):$\r$\n$1"
    ${EndIf}
  ${EndIf}
!macroend

; Sets the "Run as administrator" flag of a shortcut: bit 0x2000 (RunAsUser) of the LinkFlags at offset 0x14 of
; the .lnk file (MS-SHLLINK 2.1.1), i.e. 0x20 in the byte at 0x15.
!macro DirSyncRunAsAdministrator LINK
  ${If} ${FileExists} "${LINK}"
    FileOpen $2 "${LINK}" a
    FileSeek $2 0x15 SET
    FileReadByte $2 $3
    IntOp $3 $3 | 0x20
    FileSeek $2 0x15 SET
    FileWriteByte $2 $3
    FileClose $2
  ${EndIf}
!macroend

; Install or upgrade (customCheckAppRunning has stopped the service gracefully): the service's files are checked,
; the data folder is made the Administrators' and closed to everyone but SYSTEM, Administrators and the service
; (verified after it is set), the service registered, its Event Log source created, `dirsync` put on the PATH,
; and the service started on the same data.
!macro customInstall
  SetShellVarContext all
  StrCpy $DirSyncError ""
  ${IfNot} ${FileExists} "${DIRSYNC_WRAPPER}"
    StrCpy $DirSyncError "The service wrapper ${DIRSYNC_WRAPPER} is missing: this installer was built without WinSW (installer/README.md, release procedure)."
  ${ElseIfNot} ${FileExists} "${DIRSYNC_CLI}"
    StrCpy $DirSyncError "${DIRSYNC_CLI} is missing from this installer."
  ${EndIf}
  ${If} $DirSyncError == ""
    CreateDirectory "${DIRSYNC_DATA}"
    ${IfNot} ${FileExists} "${DIRSYNC_DATA}\*.*"
      StrCpy $DirSyncError "The data folder ${DIRSYNC_DATA} could not be created."
    ${EndIf}
  ${EndIf}
  ; The service is registered first: its virtual account NT SERVICE\DirectorySync exists only once it is, and the
  ; data folder's ACL names it.
  ${If} $DirSyncError == ""
    nsExec::ExecToStack 'sc.exe query ${DIRSYNC_SERVICE}'
    Pop $0
    Pop $1
    ${If} $0 == "0"
      !insertmacro DirSyncStep "Updating the Directory Synchronization Service" '"${DIRSYNC_WRAPPER}" refresh'
    ${Else}
      !insertmacro DirSyncStep "Registering the Directory Synchronization Service" '"${DIRSYNC_WRAPPER}" install'
    ${EndIf}
  ${EndIf}
  !insertmacro DirSyncStep "Setting the service's account" 'sc.exe config ${DIRSYNC_SERVICE} obj= "NT SERVICE\${DIRSYNC_SERVICE}" start= delayed-auto'
  ; A junction or symbolic link in place of the folder would carry the steps below to its target: refused.
  !insertmacro DirSyncStep "Checking that ${DIRSYNC_DATA} is a folder of its own" '"$SYSDIR\cmd.exe" /c ""${DIRSYNC_CLI}" windows check-data-dir --folder-only"'
  ; A standard user may have made the folder first: Administrators become its owner, and everything in it too.
  !insertmacro DirSyncStep "Making Administrators the owner of ${DIRSYNC_DATA}" 'icacls "${DIRSYNC_DATA}" /setowner *S-1-5-32-544 /T /C /Q'
  !insertmacro DirSyncStep "Protecting ${DIRSYNC_DATA}" 'icacls "${DIRSYNC_DATA}" /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" "NT SERVICE\${DIRSYNC_SERVICE}:(OI)(CI)M"'
  ; Files someone put inside keep no permissions of their own: they take the folder's.
  ${If} $DirSyncError == ""
    FindFirst $2 $3 "${DIRSYNC_DATA}\*"
    ${DoWhile} $3 != ""
      ${If} $3 != "."
      ${AndIf} $3 != ".."
        !insertmacro DirSyncStep "Resetting the permissions of ${DIRSYNC_DATA}\$3" 'icacls "${DIRSYNC_DATA}\$3" /reset /T /C /Q'
      ${EndIf}
      FindNext $2 $3
    ${Loop}
    FindClose $2
  ${EndIf}
  !insertmacro DirSyncStep "Verifying the permissions of ${DIRSYNC_DATA}" '"$SYSDIR\cmd.exe" /c ""${DIRSYNC_CLI}" windows check-data-dir"'
  ; eventcreate run by an administrator creates the source; the service's account can then write to it.
  !insertmacro DirSyncStep "Registering the Event Log source" 'eventcreate.exe /ID 1 /L APPLICATION /T INFORMATION /SO "${DIRSYNC_EVENT_SOURCE}" /D "Directory Sync ${VERSION} was installed."'
  !insertmacro DirSyncStep "Putting dirsync on the PATH" '"$SYSDIR\cmd.exe" /c ""${DIRSYNC_CLI}" windows path add "$INSTDIR\resources\bin""'
  ${If} $DirSyncError == ""
    SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
  ${EndIf}
  !insertmacro DirSyncStep "Starting the Directory Synchronization Service" 'sc.exe start ${DIRSYNC_SERVICE}'
  ; The wizard reaches the service over its pipe, which only elevated administrators may write: the shortcuts ask
  ; for elevation ("Run as administrator"), as Entra Connect's wizard does.
  ${If} $DirSyncError == ""
    !insertmacro DirSyncRunAsAdministrator "$newStartMenuLink"
    !insertmacro DirSyncRunAsAdministrator "$newDesktopLink"
  ${EndIf}
  ${If} $DirSyncError != ""
    DetailPrint "$DirSyncError"
    DetailPrint "Rolling back: the service is removed and the files uninstalled; ${DIRSYNC_DATA} is kept."
    nsExec::ExecToLog '"${DIRSYNC_WRAPPER}" stop'
    Pop $0
    nsExec::ExecToLog '"${DIRSYNC_WRAPPER}" uninstall'
    Pop $0
    nsExec::ExecToLog '"$SYSDIR\cmd.exe" /c ""${DIRSYNC_CLI}" windows path remove "$INSTDIR\resources\bin""'
    Pop $0
    MessageBox MB_OK|MB_ICONSTOP "Directory Sync could not be installed:$\r$\n$\r$\n$DirSyncError$\r$\nNothing was left installed; the data in ${DIRSYNC_DATA} is kept. Correct the cause and run the installer again." /SD IDOK
    ExecWait '"$INSTDIR\Uninstall ${PRODUCT_FILENAME}.exe" /S _?=$INSTDIR'
    Delete "$INSTDIR\Uninstall ${PRODUCT_FILENAME}.exe"
    SetOutPath $TEMP
    RMDir /r "$INSTDIR"
    SetErrorLevel 3
    Abort "Directory Sync could not be installed: $DirSyncError"
  ${EndIf}
!macroend

; Replaces electron-builder's app-running check (customCheckAppRunning), which would find the service's
; own executable and kill it mid-run. Before an upgrade or an uninstall: the service is asked over its
; control channel whether a run is in progress (dirsync-status.cmd runs `dirsync service busy`); a run is
; waited for, and anything but a clear "no run" is asked about, never assumed (fail closed). Then the
; service stops gracefully (`net stop` waits; WinSW runs `dirsync service stop`), and only then are the
; remaining app windows (the wizard, which holds no state) closed.
!macro customCheckAppRunning
  !insertmacro DirSyncWaitForRunAndStop
!macroend

!macro DirSyncWaitForRunAndStop
  SetShellVarContext all
  ${If} ${FileExists} "$INSTDIR\resources\service\dirsync-status.cmd"
    DirSyncCheckRun:
      nsExec::ExecToStack '"$SYSDIR\cmd.exe" /c ""$INSTDIR\resources\service\dirsync-status.cmd""'
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

; Uninstall: customCheckAppRunning has waited for a run in progress and stopped the service (electron-builder
; calls it from un.onInit when silent — a run in progress then cancels the uninstall: /SD IDCANCEL — and from the
; uninstall section otherwise). The service, `dirsync` on the PATH and the Event Log source are removed; the data
; is kept unless the administrator chooses to delete it.
!macro customUnInstall
  SetShellVarContext all
  nsExec::ExecToLog '"${DIRSYNC_WRAPPER}" uninstall'
  Pop $0
  nsExec::ExecToLog '"$SYSDIR\cmd.exe" /c ""${DIRSYNC_CLI}" windows path remove "$INSTDIR\resources\bin""'
  Pop $0
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=5000
  DeleteRegKey HKLM "SYSTEM\CurrentControlSet\Services\EventLog\Application\${DIRSYNC_EVENT_SOURCE}"
  MessageBox MB_YESNO|MB_ICONQUESTION "Keep the configuration and the synchronization state in ${DIRSYNC_DATA}? (Recommended: a reinstall carries on where it stopped.)" /SD IDYES IDYES DirSyncKeepData
    RMDir /r "${DIRSYNC_DATA}"
  DirSyncKeepData:
!macroend
