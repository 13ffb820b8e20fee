"""API of a scope's members (MEM-1 to MEM-6): the same selectors, predicates and services
as the members pages. ``kind`` ("account" or "profile") comes from the URL."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import invitations, member_selectors, members
from accounts.models import Invitation, MemberChange, User
from accounts.roles import Role


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": Role.values}}, component_name="Roles")
class RolesField(serializers.ListField):
    """Role codes (``accounts.roles.Role``); documented inline, as one choice set."""

    child = serializers.ChoiceField(choices=Role.choices)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", len(Role.choices))
        super().__init__(**kwargs)


class MemberSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField(help_text="Role codes on this billing scope, owners first.")
    role_labels = serializers.SerializerMethodField(help_text="The roles, named in the caller's language.")

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "roles", "role_labels"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return members.ordered_roles(a.role for a in user.scope_assignments)

    def get_role_labels(self, user) -> str:
        return members.role_names(self.get_roles(user))


class MemberRolesSerializer(serializers.Serializer):
    roles = RolesField(min_length=1, help_text="Every role the member is to hold on this billing scope (at least one).")


class InvitationSerializer(serializers.ModelSerializer):
    roles = RolesField(read_only=True)
    role_labels = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text="pending, or expired: invite again to send a new link.")
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "roles", "role_labels", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields

    def get_role_labels(self, invitation) -> str:
        return members.role_names(invitation.roles)

    def get_status(self, invitation) -> str:
        return invitations.invitation_status(invitation)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    roles = RolesField(min_length=1, help_text="The roles to give once the invitation is accepted (at least one).")


class MemberChangeSerializer(serializers.ModelSerializer):
    old_roles = RolesField(read_only=True)
    new_roles = RolesField(read_only=True)

    class Meta:
        model = MemberChange
        fields = ["id", "action", "actor_email", "member_email", "old_roles", "new_roles", "created_at"]
        read_only_fields = fields


def _scope(view, *, manage=False):
    scope = member_selectors.get_scope_for_user(view.request.user, view.kwargs["kind"], view.kwargs["pk"])
    if manage:
        member_selectors.require_manager(view.request.user, scope)
    return scope


class MemberList(generics.ListAPIView):
    """The members of the billing scope with their roles (everyone with a role on it)."""

    serializer_class = MemberSerializer

    def get_queryset(self):
        return member_selectors.members(_scope(self))


class MemberDetail(APIView):
    """One member; PUT sets their roles, DELETE removes them (the scope's owners; the last
    owner and the user who signed up keep the owner role: 409)."""

    def _member(self, request, manage=False):
        scope = _scope(self, manage=manage)
        return scope, member_selectors.get_member(scope, self.kwargs["user_id"])

    @extend_schema(responses=MemberSerializer)
    def get(self, request, kind, pk, user_id):
        _scope_, member = self._member(request)
        return Response(MemberSerializer(member).data)

    @extend_schema(request=MemberRolesSerializer, responses=MemberSerializer)
    def put(self, request, kind, pk, user_id):
        scope, member = self._member(request)
        serializer = MemberRolesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        members.member_set_roles(
            scope=scope, member=member, roles=serializer.validated_data["roles"], actor=request.user
        )
        return Response(MemberSerializer(member_selectors.get_member(scope, member.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, kind, pk, user_id):
        scope, member = self._member(request)
        members.member_remove(scope=scope, member=member, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationList(generics.ListCreateAPIView):
    """Open invitations (pending or expired; the scope's owners); POST invites an e-mail
    address to roles: the invitee gets a one-time link, valid for 7 days."""

    serializer_class = InvitationSerializer

    def get_queryset(self):
        return member_selectors.open_invitations(_scope(self, manage=True))

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def post(self, request, kind, pk):
        scope = _scope(self)
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = invitations.member_invite(scope=scope, actor=request.user, **serializer.validated_data)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetail(APIView):
    """One open invitation (the scope's owners); DELETE revokes it: its link stops working."""

    def _invitation(self, manage=True):
        scope = _scope(self, manage=manage)
        return member_selectors.get_open_invitation(scope, self.kwargs["invitation_id"])

    @extend_schema(responses=InvitationSerializer)
    def get(self, request, kind, pk, invitation_id):
        return Response(InvitationSerializer(self._invitation()).data)

    @extend_schema(responses={204: None})
    def delete(self, request, kind, pk, invitation_id):
        invitation = self._invitation(manage=False)
        invitations.invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberChangeList(generics.ListAPIView):
    """MEM-6: who changed which member's roles, when, from what to what (newest first)."""

    serializer_class = MemberChangeSerializer

    def get_queryset(self):
        return member_selectors.member_changes(_scope(self))
